"""Before an opening order on a futures account: one-way position mode, then the symbol's margin
mode and leverage as the order asks, each set on the exchange only when it differs from what this
process last set (remembered per account and symbol; a restart sets them again once). With no
leverage asked but a cap (``max_leverage``, the plan's or the trader's), the symbol's leverage is
read and lowered to the cap if it is above: never raised.

A venue that refuses a setting refuses the order: an order placed at another leverage or margin
mode than the trader asked for would be a different trade (Binance refuses a margin-mode change
while a position is open, for one).
"""

from __future__ import annotations

from collections import OrderedDict
from decimal import Decimal
from typing import TypeVar

from libs.common.errors import PermanentError
from libs.common.messages import MarginMode, PlaceOrder
from libs.common.records import MarketType
from services.executor.adapters import contracts
from services.executor.adapters.exchange import ExchangeSession
from services.executor.domain import TradingAccount
from services.executor.errors import OrderRejectedError
from services.executor.metrics import CONTRACT_SETTINGS
from services.executor.orders.sizing import plain

Key = tuple[str, str, str]
K = TypeVar("K")
V = TypeVar("V")


class ContractSetup:
    """Set position mode, margin mode and leverage before opening orders, at most once each."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self._max = max_entries
        self._one_way: OrderedDict[tuple[str, str], bool] = OrderedDict()
        self._set: OrderedDict[Key, tuple[Decimal | None, MarginMode | None]] = OrderedDict()

    async def prepare(
        self, command: PlaceOrder, account: TradingAccount, session: ExchangeSession
    ) -> None:
        """Bring the account and symbol to what ``command`` needs, or refuse it in words."""
        if account.market_type is not MarketType.FUTURES or command.reduce_only:
            return
        if command.leverage is None and command.margin_mode is None and not command.max_leverage:
            return
        try:
            await self._one_way_mode(account, session)
            await self._symbol(command, account, session)
        except PermanentError as exc:
            raise OrderRejectedError(
                "contract_settings_refused",
                f"The exchange refused to set {_asked(command)} for {command.symbol}: "
                f"{exc.message} The order was not placed.",
            ) from exc

    async def _one_way_mode(self, account: TradingAccount, session: ExchangeSession) -> None:
        key = (account.tenant_id, account.label)
        if not session.venue.one_way_mode or self._one_way.get(key):
            return
        await contracts.ensure_one_way(session)
        CONTRACT_SETTINGS.labels("position_mode").inc()
        self._remember(self._one_way, key, value=True)

    async def _symbol(
        self, command: PlaceOrder, account: TradingAccount, session: ExchangeSession
    ) -> None:
        key = (account.tenant_id, account.label, command.symbol)
        leverage, margin = self._set.get(key, (None, None))
        if command.margin_mode is not None and command.margin_mode is not margin:
            await contracts.set_margin_mode(session, command.symbol, command.margin_mode)
            CONTRACT_SETTINGS.labels("margin_mode").inc()
            margin = command.margin_mode
        wanted = command.leverage
        if wanted is None and command.max_leverage is not None:
            # A ceiling, not a setting: lowered to it if above, a lower one left alone.
            if leverage is None:
                leverage = await contracts.current_leverage(session, command.symbol)
            if leverage is None or leverage > command.max_leverage:
                wanted = command.max_leverage
        if wanted is not None and wanted != leverage:
            await contracts.set_leverage(session, command.symbol, wanted)
            CONTRACT_SETTINGS.labels("leverage").inc()
            leverage = wanted
        self._remember(self._set, key, value=(leverage, margin))

    def _remember(self, table: OrderedDict[K, V], key: K, *, value: V) -> None:
        table[key] = value
        table.move_to_end(key)
        while len(table) > self._max:
            table.popitem(last=False)


def _asked(command: PlaceOrder) -> str:
    parts = []
    if command.margin_mode is not None:
        parts.append(f"{command.margin_mode.value} margin")
    if command.leverage is not None:
        parts.append(f"leverage {plain(command.leverage)}x")
    return " and ".join(parts)

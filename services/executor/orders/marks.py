"""Mark futures positions and collect their funding payments, for the ledger.

Every ``interval_s``, for each futures account of the partitions this replica owns whose
strategy holds a position, the venue is asked for its positions (mark price, entry, unrealized
PnL, liquidation price) and for its funding payments; a position whose mark moved is published
as ``position.marked`` and each funding payment once as ``funding.paid`` (its id is the venue's,
so a payment read again after a restart is the same event; the ledger keeps one row per id).
A failing account only misses its own round.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from libs.common.errors import SparkyError
from libs.common.ids import new_id
from libs.common.messages import FundingPaid, PositionMarked
from libs.common.positions import is_contract
from libs.common.records import MarketType
from services.executor.accounts.sessions import Sessions
from services.executor.adapters import contracts
from services.executor.adapters.contracts import VenuePosition
from services.executor.adapters.exchange import ExchangeSession
from services.executor.adapters.metering import routine
from services.executor.domain import TradingAccount
from services.executor.orders.outcomes import Outcomes
from services.executor.orders.periodic import Periodic

log = logging.getLogger(__name__)
FUNDING_LOOKBACK = timedelta(days=1)


class Marks:
    """Poll futures positions' marks and funding."""

    def __init__(
        self,
        sessions: Sessions,
        outcomes: Outcomes,
        partitions: Sequence[int],
        *,
        interval_s: float,
    ) -> None:
        self._sessions = sessions
        self._out = outcomes
        self._partitions = tuple(partitions)
        self._last_mark: dict[tuple[str, str, str], Decimal] = {}
        self._funding_since: dict[tuple[str, str, str], datetime] = {}
        self._loop = Periodic("executor-marks", self.run_once, interval_s)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def run_once(self) -> int:
        """Mark every held futures position once; return how many were marked."""
        held = await self._out.orders.positions_held(self._partitions)
        by_account: dict[tuple[str, str], list[str]] = defaultdict(list)
        for tenant_id, label, symbol in held:
            if is_contract(symbol):
                by_account[(tenant_id, label)].append(symbol)
        marked = 0
        with routine():
            for (tenant_id, label), symbols in by_account.items():
                try:
                    marked += await self._account(tenant_id, label, sorted(symbols))
                except SparkyError as exc:
                    log.info("positions of an account not marked this round: %s", exc)
        return marked

    async def _account(self, tenant_id: str, label: str, symbols: list[str]) -> int:
        account = await self._sessions.account_of(tenant_id, label)
        if account is None or account.market_type is not MarketType.FUTURES:
            return 0
        async with self._sessions.lease(account) as session:
            found = await contracts.positions(session, symbols)
            for position in found:
                await self._mark(account, position)
                await self._funding(account, session, position.symbol)
        return len(found)

    async def _mark(self, account: TradingAccount, position: VenuePosition) -> None:
        key = (account.tenant_id, account.label, position.symbol)
        if position.mark_price is None or self._last_mark.get(key) == position.mark_price:
            return
        now = self._out.clock()
        event_id = new_id()
        event = PositionMarked(
            message_id=event_id,
            tenant_id=account.tenant_id,
            correlation_id=event_id,
            causation_id=event_id,
            account_label=account.label,
            exchange_id=account.exchange_id,
            symbol=position.symbol,
            quantity=position.quantity,
            entry_price=position.entry_price,
            mark_price=position.mark_price,
            unrealized_pnl=position.unrealized_pnl,
            liquidation_price=position.liquidation_price or None,
            marked_at=now,
        )
        await self._out.emitter.account_event(event, f"mark:{event_id}")
        self._last_mark[key] = position.mark_price

    async def _funding(
        self, account: TradingAccount, session: ExchangeSession, symbol: str
    ) -> None:
        key = (account.tenant_id, account.label, symbol)
        since = self._funding_since.get(key) or self._out.clock() - FUNDING_LOOKBACK
        for row in await contracts.funding(session, symbol, since):
            event_id = new_id()
            event = FundingPaid(
                message_id=event_id,
                tenant_id=account.tenant_id,
                correlation_id=event_id,
                causation_id=event_id,
                account_label=account.label,
                exchange_id=account.exchange_id,
                symbol=symbol,
                amount=row.amount,
                currency=row.currency,
                funding_id=row.funding_id,
                paid_at=row.paid_at,
            )
            dedup = f"funding:{account.tenant_id}:{account.label}:{row.funding_id}"
            await self._out.emitter.account_event(event, dedup)
            since = max(since, row.paid_at + timedelta(milliseconds=1))
        self._funding_since[key] = since

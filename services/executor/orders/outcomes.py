"""What became of an order: the exchange's view adopted, endings reported and recorded; keys
refused mark the account invalid for the tenant and the router.

An order record is brought in line with what the exchange reports (after a creation, after a
look-up by client order id, and by the tracker), emitting what is new. Events go out first and
the record is saved after, so a crash in between only repeats events (which carry the same
ids), never loses one. The save moves the strategy position by what the new fills add (net of
fees in the coin), in the same statement; once the order has filled, the position is compared
with TradingView's, when the alert said it (`drift`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from libs.common.errors import PermanentError
from libs.common.fsm import OrderState, state_of_exchange_status
from libs.common.messages import Fill, PlaceOrder
from libs.common.positions import coin_fees, fills_change
from libs.common.records import AccountStatus
from libs.common.topology import Topology
from services.executor.accounts.service import AccountService
from services.executor.adapters.exchange import ExchangeSession
from services.executor.adapters.parse import ExchangeOrder
from services.executor.domain import Held, OrderRecord, Protection
from services.executor.errors import AccountAuthError, NotFoundError, OrderRejectedError
from services.executor.orders import drift
from services.executor.orders.events import Emitter
from services.executor.orders.store import OrderStore

log = logging.getLogger(__name__)

_ENDED = frozenset({OrderState.FILLED, OrderState.CANCELED})


def _total(fills: tuple[Fill, ...] | list[Fill]) -> Decimal:
    return sum((f.amount for f in fills), Decimal(0))


def _average(fills: tuple[Fill, ...]) -> Decimal | None:
    amount = _total(fills)
    if not amount:
        return None
    return sum((f.price * f.amount for f in fills), Decimal(0)) / amount


def _protection(record: OrderRecord, state: OrderState, filled: Decimal) -> Protection | None:
    """An entry with targets owes its protective orders once it ends having filled."""
    if record.protection is not None or not (record.take_profit or record.stop_loss):
        return record.protection
    if record.protective or state not in _ENDED or filled <= 0:
        return None
    return Protection.OWED


class AfterAdoption(Protocol):
    """What reacts to an order's adopted state (the `Protector`: its protective orders)."""

    async def after(self, record: OrderRecord, session: ExchangeSession) -> OrderRecord: ...


class Outcomes:
    """Report and record what became of orders."""

    def __init__(
        self,
        orders: OrderStore,
        emitter: Emitter,
        accounts: AccountService,
        topology: Topology,
        clock: Callable[[], datetime],
    ) -> None:
        self.orders = orders
        self.emitter = emitter
        self._accounts = accounts
        self._topology = topology
        self.clock = clock
        self.protector: AfterAdoption | None = None
        """Places and cancels protective orders around fills (wired after construction: it
        adopts through these outcomes too)."""

    def new_record(self, command: PlaceOrder, state: OrderState) -> OrderRecord:
        """Return the record of ``command`` in ``state``, not yet saved."""
        partition = self._topology.partition_of(command.tenant_id)
        return OrderRecord.from_command(command, partition, state, self.clock())

    async def adopt(
        self, record: OrderRecord, order: ExchangeOrder, session: ExchangeSession
    ) -> OrderRecord:
        """Apply the exchange's view of the order (`_apply`), then place or cancel the
        protective orders it calls for."""
        updated = await self._apply(record, order, session)
        if self.protector is not None:
            updated = await self.protector.after(updated, session)
        return updated

    async def conclude(self, record: OrderRecord, exc: PermanentError) -> OrderRecord:
        """Report a refused or failed order, then record it so."""
        rejected = isinstance(exc, OrderRejectedError)
        state = OrderState.REJECTED if rejected else OrderState.FAILED
        await self.note_refusal(record, exc)
        if rejected:
            await self.emitter.rejected(record, exc.message, exc.code)
        else:
            await self.emitter.failed(record, exc.message)
        moved = record.moved(state, self.clock(), reason=exc.message, reason_code=exc.code)
        return await self.orders.save(moved)

    async def repeat(self, record: OrderRecord) -> None:
        """Publish again the event of a record refused before the exchange (same ids)."""
        reason = record.reason or "The order could not be placed."
        if record.state is OrderState.REJECTED:
            await self.emitter.rejected(record, reason, record.reason_code)
        elif record.state is OrderState.FAILED:
            await self.emitter.failed(record, reason)

    async def foreign(self, command: PlaceOrder) -> OrderRecord:
        """Refuse a command whose client order id belongs to another tenant's order."""
        record = self.new_record(command, OrderState.REJECTED)
        reason = "This client order id is already used by another order; it was not placed."
        await self.emitter.rejected(record, reason, "duplicate_client_order_id")
        return record

    async def note_refusal(self, record: OrderRecord, exc: PermanentError) -> None:
        """Mark the account invalid when the exchange refused its keys."""
        if not isinstance(exc, AccountAuthError):
            return
        try:
            await self._accounts.set_status(
                record.tenant_id, record.account_label, AccountStatus.INVALID, exc.message
            )
        except NotFoundError:
            log.info("account removed before it could be marked invalid")

    async def _apply(
        self, record: OrderRecord, order: ExchangeOrder, session: ExchangeSession
    ) -> OrderRecord:
        """Emit what the record does not reflect yet (submitted, new fills, the end) and
        save the record in the state the exchange reports.
        """
        now = self.clock()
        if record.exchange_order_id is None:
            amount = order.amount or record.amount or order.filled
            await self.emitter.submitted(record, order.order_id, amount, now)
        fills = await self._fills(record, order, session)
        new = [f for f in fills if f.trade_id not in record.reported_trades]
        reported = _total([f for f in fills if f.trade_id in record.reported_trades])
        state = self._state(order, reported + _total(new))
        if new:
            await self.emitter.filled(record, order.order_id, new, complete=state in _ENDED)
        await self._announce_end(record, order, state)
        moved = Held(fills_change(record.symbol, record.side, new), coin_fees(record.symbol, new))
        filled = reported + _total(new)
        updated = record.moved(
            state,
            now,
            exchange_order_id=order.order_id,
            amount=record.amount or order.amount,
            filled=filled,
            reported_trades=record.reported_trades + tuple(f.trade_id for f in new),
            average_price=_average(fills) or record.average_price,
            protection=_protection(record, state, filled),
        )
        if state in _ENDED and record.state not in _ENDED and updated.filled > 0:
            await self._check_drift(updated, moved, session)
        return await self.orders.save(updated, moved)

    async def _check_drift(
        self, record: OrderRecord, moved: Held, session: ExchangeSession
    ) -> None:
        """Compare the strategy position the order leaves with TradingView's, if known."""
        if record.expected_position is None:
            return
        held = await self.orders.position(record.tenant_id, record.account_label, record.symbol)
        after = held.quantity + moved.quantity
        fees = held.coin_fees + moved.coin_fees if after else Decimal(0)
        step = session.market(record.symbol).amount_step or Decimal(0)
        found = drift.after_fill(record, after, step + fees)
        if found is not None:
            await self.emitter.drift(record, found)

    async def _fills(
        self, record: OrderRecord, order: ExchangeOrder, session: ExchangeSession
    ) -> tuple[Fill, ...]:
        # Market orders usually carry their fills; otherwise ask for the order's trades.
        if _total(order.fills) >= order.filled:
            return order.fills
        return await session.trades(record.symbol, order.order_id)

    @staticmethod
    def _state(order: ExchangeOrder, reported: Decimal) -> OrderState:
        state = state_of_exchange_status(order.status, filled_any=order.filled > 0)
        if state in {OrderState.FILLED, OrderState.CANCELED} and reported < order.filled:
            # The trades are not visible yet: keep following the order until they are.
            return OrderState.PARTIALLY_FILLED
        return state

    async def _announce_end(
        self, record: OrderRecord, order: ExchangeOrder, state: OrderState
    ) -> None:
        if state is OrderState.CANCELED and record.state is not OrderState.CANCELED:
            await self.emitter.canceled(record, order.order_id, order.filled)
        if state is OrderState.REJECTED and record.state is not OrderState.REJECTED:
            await self.emitter.rejected(record, "The exchange rejected the order.", "rejected")

"""Bring an order record in line with what the exchange reports, emitting what is new.

Used after a creation, after a look-up by client order id, and by the tracker. Events go out
first and the record is saved after, so a crash in between only repeats events (which carry
the same ids), never loses one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from libs.common.messages import Fill
from services.executor.adapters.exchange import ExchangeSession
from services.executor.adapters.parse import ExchangeOrder
from services.executor.events import Emitter
from services.executor.lifecycle import OrderState, state_of_exchange_status
from services.executor.models import OrderRecord
from services.executor.store import OrderStore


def _total(fills: tuple[Fill, ...] | list[Fill]) -> Decimal:
    return sum((f.amount for f in fills), Decimal(0))


class Reconciler:
    """Apply an exchange's view of an order to its record."""

    def __init__(self, orders: OrderStore, emitter: Emitter, clock: Callable[[], datetime]) -> None:
        self._orders = orders
        self._emit = emitter
        self._clock = clock

    async def adopt(
        self, record: OrderRecord, order: ExchangeOrder, session: ExchangeSession
    ) -> OrderRecord:
        """Emit what the record does not reflect yet (submitted, new fills, the end) and
        save the record in the state the exchange reports.
        """
        now = self._clock()
        if record.exchange_order_id is None:
            amount = order.amount or record.amount or order.filled
            await self._emit.submitted(record, order.order_id, amount, now)
        fills = await self._fills(record, order, session)
        new = [f for f in fills if f.trade_id not in record.reported_trades]
        reported = _total([f for f in fills if f.trade_id in record.reported_trades])
        state = self._state(order, reported + _total(new))
        if new:
            finished = state in {OrderState.FILLED, OrderState.CANCELED}
            await self._emit.filled(record, order.order_id, new, complete=finished)
        await self._announce_end(record, order, state)
        return await self._orders.save(
            record.moved(
                state,
                now,
                exchange_order_id=order.order_id,
                amount=record.amount or order.amount,
                filled=reported + _total(new),
                reported_trades=record.reported_trades + tuple(f.trade_id for f in new),
            )
        )

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
            await self._emit.canceled(record, order.order_id, order.filled)
        if state is OrderState.REJECTED and record.state is not OrderState.REJECTED:
            await self._emit.rejected(record, "The exchange rejected the order.", "rejected")

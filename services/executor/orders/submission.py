"""Send a recorded order to the exchange exactly once: submit a ``pending`` record, or look an
unresolved one up by client order id before any resubmission (`services.executor.orders.service`
explains the rules). Used for the orders alerts ask for and for protective orders alike.

A look-up happens when the executor does not know what became of an order it recorded: a
redelivery after a crash or a timeout, an exchange calling the id taken, giving up, the
tracker following an uncertain order. An order *found* that way is the evidence that
exactly-once held (it was not placed again): it is logged at WARNING and counted, like every
other look-up, in ``sparky_executor_lookups_total{via, outcome}``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from libs.common.fsm import OrderState
from services.executor.adapters.exchange import ExchangeSession, OcoRequest
from services.executor.adapters.parse import ExchangeOrder
from services.executor.domain import OrderRecord
from services.executor.errors import (
    CreationRefusedError,
    DuplicateClientOrderIdError,
    OrderFailedError,
    OrderNotFoundError,
    OrderRejectedError,
    SubmissionUnconfirmedError,
)
from services.executor.metrics import LOOKUPS, WEBHOOK_TO_EXCHANGE_SECONDS
from services.executor.orders.outcomes import Outcomes
from services.executor.orders.protection import order_params

log = logging.getLogger(__name__)


class Via(StrEnum):
    """Why the order was looked up."""

    REDELIVERY = "redelivery"
    DUPLICATE_ID = "duplicate_id"
    GIVING_UP = "giving_up"
    TRACKER = "tracker"


async def look_up(
    session: ExchangeSession, record: OrderRecord, via: Via, now: datetime
) -> ExchangeOrder | None:
    """Return the exchange's order with the record's client order id, or None; count the
    outcome: ``found``, ``not_found`` (a late creation is ruled out), or ``not_yet`` (not
    found, but a creation still on its way may yet arrive).
    """
    try:
        found = await observe(session, record)
    except OrderNotFoundError:
        found = None
    if found is not None:
        outcome = "found"
        log.warning(
            "order found on the exchange by its client order id (%s): not placed again",
            via.value,
            extra={
                "tenant_id": record.tenant_id,
                "intent_id": record.intent_id,
                "client_order_id": record.client_order_id,
                "exchange_order_id": found.order_id,
                "record_state": record.state.value,
            },
        )
    else:
        outcome = "not_found" if session.settled(record.sent_at, now) else "not_yet"
    LOOKUPS.labels(via.value, outcome).inc()
    return found


async def observe(session: ExchangeSession, record: OrderRecord) -> ExchangeOrder | None:
    """Return the exchange's order of ``record`` by its client order id, or None.

    A conditional (protective) order that has triggered is reported as the order it became,
    which holds its fills (Binance: the Algo order's ``actualOrderId``).
    """
    found = await session.find(
        record.symbol, record.client_order_id, conditional=record.conditional
    )
    if found is None or found.actual_order_id is None:
        return found
    return await session.fetch(record.symbol, found.actual_order_id)


class Submitter:
    """Submit and look up recorded orders."""

    def __init__(self, outcomes: Outcomes) -> None:
        self._out = outcomes
        self._orders = outcomes.orders

    async def drive(self, record: OrderRecord, session: ExchangeSession) -> OrderRecord:
        """Submit a ``pending`` record's order and adopt the exchange's answer."""
        if record.amount is None:
            raise RuntimeError(f"order {record.client_order_id} has no amount to submit")
        try:
            order = await session.create(
                symbol=record.symbol,
                order_type=record.order_type,
                side=record.side,
                amount=record.amount,
                price=record.price,
                client_order_id=record.client_order_id,
                params=order_params(record),
            )
        except SubmissionUnconfirmedError:
            await self._orders.save(record.moved(OrderState.UNCERTAIN, self._out.clock()))
            raise
        except CreationRefusedError:
            # Turned away, most likely unprocessed; but the record keeps its sending time, so
            # the retry looks the order up and resubmits only once a late arrival is ruled out.
            raise
        except DuplicateClientOrderIdError:
            return await self.look_up(record, session, resubmit=False)
        except (OrderRejectedError, OrderFailedError) as exc:
            return await self._out.conclude(record, exc)
        if not record.protective:
            elapsed = self._out.clock() - record.received_at
            WEBHOOK_TO_EXCHANGE_SECONDS.observe(elapsed.total_seconds())
        return await self._out.adopt(record, order, session)

    async def look_up(
        self, record: OrderRecord, session: ExchangeSession, *, resubmit: bool
    ) -> OrderRecord:
        """Adopt the order found by client order id; else resubmit once it cannot arrive."""
        now = self._out.clock()
        via = Via.REDELIVERY if resubmit else Via.DUPLICATE_ID
        found = await look_up(session, record, via, now)
        if found is not None:
            return await self._out.adopt(record, found, session)
        if not resubmit:
            reason = "The exchange reported this client order id as taken but has no such order."
            return await self._out.conclude(record, OrderFailedError("duplicate_id", reason))
        if not session.settled(record.sent_at, now):
            raise SubmissionUnconfirmedError(
                "the exchange did not confirm the order yet; it is looked up again before "
                "any resubmission",
                retry_after=min(1.0, session.settle_s),
            )
        record = await self._orders.save(record.moved(OrderState.PENDING, now, sent_at=now))
        return await self.drive(record, session)

    async def drive_oco(
        self, take_profit: OrderRecord, stop: OrderRecord, list_id: str, session: ExchangeSession
    ) -> tuple[OrderRecord, OrderRecord]:
        """Submit two ``pending`` protective records as one OCO list; adopt both legs."""
        request = OcoRequest(
            symbol=stop.symbol,
            amount=stop.amount or take_profit.amount or take_profit.filled,
            take_profit=_price(take_profit.trigger_price),
            stop=_price(stop.trigger_price),
            stop_limit=stop.price,
            list_id=list_id,
            take_profit_id=take_profit.client_order_id,
            stop_id=stop.client_order_id,
        )
        try:
            legs = await session.create_oco(request)
        except SubmissionUnconfirmedError:
            now = self._out.clock()
            for record in (take_profit, stop):
                await self._orders.save(record.moved(OrderState.UNCERTAIN, now))
            raise
        except DuplicateClientOrderIdError:
            return await self.look_up_oco(take_profit, stop, list_id, session)
        except (OrderRejectedError, OrderFailedError) as exc:
            return await self._out.conclude(take_profit, exc), await self._out.conclude(stop, exc)
        by_id = {leg.client_order_id: leg for leg in legs}
        return (
            await self._adopt_leg(take_profit, by_id, session),
            await self._adopt_leg(stop, by_id, session),
        )

    async def look_up_oco(
        self, take_profit: OrderRecord, stop: OrderRecord, list_id: str, session: ExchangeSession
    ) -> tuple[OrderRecord, OrderRecord]:
        """Adopt the legs found by client order id; resubmit the list only once neither can
        still arrive (a list is placed whole or not at all)."""
        now = self._out.clock()
        found = [await look_up(session, r, Via.REDELIVERY, now) for r in (take_profit, stop)]
        if any(f is not None for f in found):
            adopted = [
                await self._out.adopt(r, f, session) if f is not None else r
                for r, f in zip((take_profit, stop), found, strict=True)
            ]
            return adopted[0], adopted[1]
        if not all(session.settled(r.sent_at, now) for r in (take_profit, stop)):
            raise SubmissionUnconfirmedError(
                "the exchange did not confirm the OCO list yet; it is looked up again before "
                "any resubmission",
                retry_after=min(1.0, session.settle_s),
            )
        again = [
            await self._orders.save(r.moved(OrderState.PENDING, now, sent_at=now))
            for r in (take_profit, stop)
        ]
        return await self.drive_oco(again[0], again[1], list_id, session)

    async def _adopt_leg(
        self, record: OrderRecord, legs: dict[str | None, ExchangeOrder], session: ExchangeSession
    ) -> OrderRecord:
        leg = legs.get(record.client_order_id)
        if leg is None:  # not in the answer: the tracker looks it up by client order id
            return record
        return await self._out.adopt(record, leg, session)


def _price(value: Decimal | None) -> Decimal:
    if value is None:
        raise RuntimeError("a protective order without its price")
    return value

"""Looking an order up by its client order id, made visible.

A look-up happens when the executor does not know what became of an order it recorded: a
redelivery after a crash or a timeout, an exchange calling the id taken, giving up, the
tracker following an uncertain order. An order *found* that way is the evidence that
exactly-once held (it was not placed again): it is logged at WARNING and counted, like every
other look-up, in ``sparky_executor_lookups_total{via, outcome}``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum

from services.executor.adapters.exchange import ExchangeSession
from services.executor.adapters.parse import ExchangeOrder
from services.executor.domain import OrderRecord
from services.executor.errors import OrderNotFoundError
from services.executor.metrics import LOOKUPS

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

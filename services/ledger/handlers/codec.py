"""Turn a message of the EVENTS stream into an event, or into poison with the reason why."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from pydantic import ValidationError

from libs.common.messages import (
    Event,
    FundingPaid,
    OrderCanceled,
    OrderFilled,
    OrderSubmitted,
    PositionDrift,
    PositionMarked,
    decode_event,
)
from libs.common.topology import Topology
from services.ledger.domain.rows import Poison, Sequenced

MAX_ERROR = 2000
MAX_PAYLOAD = 8192
# Far beyond any real price, amount or fee, and far inside what Postgres' numeric holds: the
# driver silently writes 0 for a decimal past numeric's range, so it must never get there.
MAX_MAGNITUDE = Decimal("1E+30")
MAX_PLACES = 30


def decode(seq: int, subject: str, data: bytes, topology: Topology) -> Sequenced | Poison:
    """Return the event at ``seq``, or `Poison` when it does not decode, validate, sit on
    its own subject (``<ns>.events.<its tenant>.<its kind>``) or keep its numbers in range.
    """
    try:
        event = decode_event(data)
    except ValidationError as exc:
        return poison(seq, subject, data, f"not a valid event: {exc}")
    expected = topology.event_subject(event.tenant_id, event.kind)
    if subject != expected:
        return poison(seq, subject, data, f"published on {subject}, its subject is {expected}")
    if (wild := next(_out_of_range(event), None)) is not None:
        return poison(seq, subject, data, f"a number out of the ledger's range: {wild}")
    return Sequenced(seq, event)


def _out_of_range(event: Event) -> Iterator[Decimal]:
    for value in _numbers(event):
        exponent = value.normalize().as_tuple().exponent  # an int: no NaN or infinity here
        if abs(value) >= MAX_MAGNITUDE or (isinstance(exponent, int) and -exponent > MAX_PLACES):
            yield value


def _numbers(event: Event) -> Iterator[Decimal]:
    if isinstance(event, OrderFilled):
        for fill in event.fills:
            yield from (fill.price, fill.amount, fill.fee)
    elif isinstance(event, OrderSubmitted):
        yield from _present(event.amount, event.price, event.trigger_price, event.leverage)
    elif isinstance(event, OrderCanceled):
        yield event.filled_amount
    elif isinstance(event, PositionDrift):
        yield from (event.expected, event.actual, event.written_off)
    elif isinstance(event, PositionMarked):
        yield from _present(
            event.quantity,
            event.entry_price,
            event.mark_price,
            event.unrealized_pnl,
            event.liquidation_price,
        )
    elif isinstance(event, FundingPaid):
        yield event.amount


def _present(*values: Decimal | None) -> Iterator[Decimal]:
    return (value for value in values if value is not None)


def poison(seq: int, subject: str, data: bytes, error: str) -> Poison:
    """Return the record of a message set aside, its error and payload capped."""
    payload = data[:MAX_PAYLOAD].decode("utf-8", errors="replace")
    return Poison(seq=seq, subject=subject, error=error[:MAX_ERROR], payload=payload)

"""The life of one order submission, as an explicit transition table.

``pending``: recorded before the exchange is called; the exchange may or may not have it.
``unknown``: the call to create it ended without an answer (timeout, 5xx, connection lost).
Both are resolved by looking the order up by its client order id, never by resubmitting
blindly. ``rejected`` also covers orders refused before reaching the exchange (sizing).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class OrderState(StrEnum):
    PENDING = "pending"
    UNKNOWN = "unknown"
    SUBMITTED = "submitted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    FAILED = "failed"


class IllegalTransitionError(Exception):
    """A state change the table does not allow: a bug, never a trader's mistake."""

    def __init__(self, current: OrderState, target: OrderState) -> None:
        super().__init__(f"an order cannot go from {current.value} to {target.value}")
        self.current = current
        self.target = target


_S = OrderState
_AFTER_EXCHANGE: Final = frozenset(
    {_S.SUBMITTED, _S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELED, _S.REJECTED, _S.FAILED}
)

TRANSITIONS: Final[dict[OrderState, frozenset[OrderState]]] = {
    _S.PENDING: _AFTER_EXCHANGE | {_S.UNKNOWN},
    # A look-up that finds nothing sends the order back to pending: it may be submitted again.
    _S.UNKNOWN: _AFTER_EXCHANGE | {_S.PENDING},
    # Some exchanges acknowledge an order, then reject it (a post-only limit that would cross).
    _S.SUBMITTED: frozenset({_S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELED, _S.REJECTED}),
    _S.PARTIALLY_FILLED: frozenset({_S.FILLED, _S.CANCELED}),
    _S.FILLED: frozenset(),
    _S.CANCELED: frozenset(),
    _S.REJECTED: frozenset(),
    _S.FAILED: frozenset(),
}

INITIAL: Final = frozenset({_S.PENDING, _S.REJECTED, _S.FAILED})
"""States an order may be recorded in: about to be sent, or refused before sending."""

OPEN: Final = frozenset({_S.SUBMITTED, _S.PARTIALLY_FILLED})
"""On the exchange and not finished: the tracker follows these."""

UNRESOLVED: Final = frozenset({_S.PENDING, _S.UNKNOWN})
"""The exchange may have the order: look it up before doing anything else."""

TERMINAL: Final = frozenset(state for state, nexts in TRANSITIONS.items() if not nexts)


def transition(current: OrderState, target: OrderState) -> OrderState:
    """Return ``target`` if the table allows it; staying put is always allowed (a re-read)."""
    if target is current or target in TRANSITIONS[current]:
        return target
    raise IllegalTransitionError(current, target)


def state_of_exchange_status(status: str | None, *, filled_any: bool) -> OrderState:
    """Map ccxt's unified order status (open, closed, canceled, expired, rejected) to ours."""
    if status == "closed":
        return OrderState.FILLED
    if status in {"canceled", "expired"}:
        return OrderState.CANCELED
    if status == "rejected":
        return OrderState.REJECTED
    return OrderState.PARTIALLY_FILLED if filled_any else OrderState.SUBMITTED

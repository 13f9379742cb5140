"""The order state machine: one transition table, applied by every service that follows orders.

The executor moves its own record of an order through it, and the ledger moves the order it
projects from the executor's events through the same table, so the two can never disagree on
what may follow what (nautilus' ``Order.apply``).

- ``pending``: recorded by the executor before the exchange is called; the exchange may or may
  not have it. The ledger never sees it (an order it has no event of yet starts here).
- ``uncertain``: a creation ended without an answer, or the executor gave up on the order
  without learning its fate. The exchange may hold it: it is looked up by client order id,
  never resubmitted blindly, and it becomes ``submitted``/``filled`` if it appears, ``failed``
  once it is known that it can no longer appear. A final failure and an uncertain one are
  different facts: only ``failed`` is final.
- ``rejected``: the exchange, or sizing against live data, refused the order; ``failed``: it was
  not placed for a reason on our side. Both are final.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from libs.common.messages import (
    OrderCanceled,
    OrderFailed,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
    OrderUncertain,
)
from libs.common.messages.events import OrderEvent


class OrderState(StrEnum):
    PENDING = "pending"
    UNCERTAIN = "uncertain"
    SUBMITTED = "submitted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    FAILED = "failed"


class IllegalTransitionError(ValueError):
    """A state change the table does not allow: a bug or an event out of its order."""

    def __init__(self, current: OrderState, target: OrderState) -> None:
        super().__init__(f"an order cannot go from {current.value} to {target.value}")
        self.current = current
        self.target = target


_S = OrderState
_AFTER_EXCHANGE: Final = frozenset(
    {_S.SUBMITTED, _S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELED, _S.REJECTED, _S.FAILED}
)

TRANSITIONS: Final[dict[OrderState, frozenset[OrderState]]] = {
    _S.PENDING: _AFTER_EXCHANGE | {_S.UNCERTAIN},
    # A look-up that finds nothing once a late arrival is impossible sends the order back to
    # pending (it may be submitted again) or, when the executor gave up on it, to failed.
    _S.UNCERTAIN: _AFTER_EXCHANGE | {_S.PENDING},
    # Some exchanges acknowledge an order, then reject it (a post-only limit that would cross).
    _S.SUBMITTED: frozenset({_S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELED, _S.REJECTED}),
    _S.PARTIALLY_FILLED: frozenset({_S.FILLED, _S.CANCELED}),
    _S.FILLED: frozenset(),
    _S.CANCELED: frozenset(),
    _S.REJECTED: frozenset(),
    _S.FAILED: frozenset(),
}

INITIAL: Final = frozenset({_S.PENDING, _S.REJECTED, _S.FAILED})
"""States the executor may record an order in: about to be sent, or refused before sending."""

OPEN: Final = frozenset({_S.SUBMITTED, _S.PARTIALLY_FILLED})
"""On the exchange and not finished: followed until they end."""

UNRESOLVED: Final = frozenset({_S.PENDING, _S.UNCERTAIN})
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


def reported_state(event: OrderEvent) -> OrderState | None:
    """Return the state an order event reports, or None for one that reports none (a drift)."""
    if isinstance(event, OrderFilled):
        return OrderState.FILLED if event.complete else OrderState.PARTIALLY_FILLED
    return _REPORTED.get(type(event))


_REPORTED: Final[dict[type[OrderEvent], OrderState]] = {
    OrderSubmitted: OrderState.SUBMITTED,
    OrderRejected: OrderState.REJECTED,
    OrderFailed: OrderState.FAILED,
    OrderUncertain: OrderState.UNCERTAIN,
    OrderCanceled: OrderState.CANCELED,
}

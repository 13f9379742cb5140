"""An order's lifecycle as the ledger sees it: an explicit transition table.

An order normally goes submitted → partially filled → filled, or ends rejected, failed or
canceled. The ledger records what the executor reported; an event that makes no sense from
the order's current status (a fill after a rejection) is kept in the order's history but does
not change its status: `transition` raises `IllegalTransitionError`, the caller keeps the old
status.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class OrderStatus(StrEnum):
    SUBMITTED = "submitted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    REJECTED = "rejected"
    FAILED = "failed"
    CANCELED = "canceled"


class OrderChange(StrEnum):
    """What an order event reports, as far as the status goes."""

    SUBMITTED = "order.submitted"
    PARTIAL_FILL = "order.filled.partial"
    FINAL_FILL = "order.filled.complete"
    REJECTED = "order.rejected"
    FAILED = "order.failed"
    CANCELED = "order.canceled"


class IllegalTransitionError(ValueError):
    """The event cannot apply to an order in its current status."""


S, C = OrderStatus, OrderChange
_TARGET: Final = {
    C.SUBMITTED: S.SUBMITTED,
    C.PARTIAL_FILL: S.PARTIALLY_FILLED,
    C.FINAL_FILL: S.FILLED,
    C.REJECTED: S.REJECTED,
    C.FAILED: S.FAILED,
    C.CANCELED: S.CANCELED,
}
# None: the first event the ledger sees of an order; any report can be the first.
_ALLOWED: Final[dict[OrderStatus | None, frozenset[OrderChange]]] = {
    None: frozenset(OrderChange),
    S.SUBMITTED: frozenset(
        {C.SUBMITTED, C.PARTIAL_FILL, C.FINAL_FILL, C.REJECTED, C.FAILED, C.CANCELED}
    ),
    S.PARTIALLY_FILLED: frozenset({C.PARTIAL_FILL, C.FINAL_FILL, C.CANCELED}),
    S.FILLED: frozenset({C.FINAL_FILL}),  # a late report of the same completed order
    S.REJECTED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELED: frozenset(),
}


def transition(current: OrderStatus | None, change: OrderChange) -> OrderStatus:
    """Return the status after ``change``, or raise `IllegalTransitionError`."""
    if change not in _ALLOWED[current]:
        was = current.value if current else "new"
        raise IllegalTransitionError(f"{change.value} cannot follow {was}")
    return _TARGET[change]


def is_terminal(status: OrderStatus) -> bool:
    """Whether the order can change no more (no further fills are expected)."""
    return not _ALLOWED[status] or status is S.FILLED

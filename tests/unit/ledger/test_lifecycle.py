"""The order lifecycle's transition table."""

from __future__ import annotations

import pytest

from services.ledger.lifecycle import (
    IllegalTransitionError,
    OrderChange,
    OrderStatus,
    is_terminal,
    transition,
)

S, C = OrderStatus, OrderChange


@pytest.mark.parametrize(
    ("path", "final"),
    [
        ([C.SUBMITTED, C.PARTIAL_FILL, C.PARTIAL_FILL, C.FINAL_FILL], S.FILLED),
        ([C.SUBMITTED, C.PARTIAL_FILL, C.CANCELED], S.CANCELED),
        ([C.SUBMITTED, C.REJECTED], S.REJECTED),
        ([C.FAILED], S.FAILED),
        ([C.FINAL_FILL], S.FILLED),  # the submission report may come late or not at all
    ],
)
def test_orders_follow_their_lifecycle(path: list[OrderChange], final: OrderStatus) -> None:
    status: OrderStatus | None = None
    for change in path:
        status = transition(status, change)
    assert status is final


@pytest.mark.parametrize(
    ("status", "change"),
    [
        (S.REJECTED, C.FINAL_FILL),
        (S.CANCELED, C.PARTIAL_FILL),
        (S.FILLED, C.CANCELED),
        (S.PARTIALLY_FILLED, C.SUBMITTED),
        (S.FAILED, C.SUBMITTED),
    ],
)
def test_an_event_that_cannot_follow_is_refused(status: OrderStatus, change: OrderChange) -> None:
    with pytest.raises(IllegalTransitionError, match=f"cannot follow {status.value}"):
        transition(status, change)


def test_only_final_statuses_are_terminal() -> None:
    terminal = {status for status in OrderStatus if is_terminal(status)}
    assert terminal == {S.FILLED, S.REJECTED, S.FAILED, S.CANCELED}

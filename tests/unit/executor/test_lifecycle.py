"""The order state machine: what may follow what."""

from __future__ import annotations

import pytest

from services.executor.lifecycle import (
    INITIAL,
    OPEN,
    TERMINAL,
    TRANSITIONS,
    UNRESOLVED,
    IllegalTransitionError,
    OrderState,
    state_of_exchange_status,
    transition,
)

S = OrderState


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.PENDING, S.SUBMITTED),
        (S.PENDING, S.UNKNOWN),
        (S.UNKNOWN, S.FILLED),
        (S.UNKNOWN, S.PENDING),
        (S.SUBMITTED, S.PARTIALLY_FILLED),
        (S.PARTIALLY_FILLED, S.FILLED),
        (S.PARTIALLY_FILLED, S.CANCELED),
        (S.PARTIALLY_FILLED, S.PARTIALLY_FILLED),
    ],
)
def test_the_table_allows_the_lives_orders_lead(current: OrderState, target: OrderState) -> None:
    assert transition(current, target) is target


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.FILLED, S.CANCELED),
        (S.CANCELED, S.FILLED),
        (S.REJECTED, S.SUBMITTED),
        (S.SUBMITTED, S.PENDING),  # an acknowledged order is never submitted again
        (S.SUBMITTED, S.UNKNOWN),
        (S.FAILED, S.PENDING),
        (S.PARTIALLY_FILLED, S.SUBMITTED),
    ],
)
def test_an_illegal_transition_raises(current: OrderState, target: OrderState) -> None:
    with pytest.raises(IllegalTransitionError, match=f"from {current.value} to {target.value}"):
        transition(current, target)


def test_terminal_states_have_no_way_out_and_every_state_is_in_the_table() -> None:
    assert set(TRANSITIONS) == set(OrderState)
    assert {S.FILLED, S.CANCELED, S.REJECTED, S.FAILED} == TERMINAL
    assert not (OPEN | UNRESOLVED) & TERMINAL
    assert {S.PENDING, S.REJECTED, S.FAILED} == INITIAL


@pytest.mark.parametrize(
    ("status", "filled_any", "expected"),
    [
        ("closed", True, S.FILLED),
        ("canceled", False, S.CANCELED),
        ("expired", True, S.CANCELED),
        ("rejected", False, S.REJECTED),
        ("open", False, S.SUBMITTED),
        ("open", True, S.PARTIALLY_FILLED),
        (None, False, S.SUBMITTED),
    ],
)
def test_ccxt_statuses_map_to_our_states(
    status: str | None, *, filled_any: bool, expected: OrderState
) -> None:
    assert state_of_exchange_status(status, filled_any=filled_any) is expected

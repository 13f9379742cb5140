"""The order state machine the executor and the ledger share: what may follow what."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from libs.common.fsm import (
    INITIAL,
    OPEN,
    TERMINAL,
    TRANSITIONS,
    UNRESOLVED,
    IllegalTransitionError,
    OrderState,
    reported_state,
    state_of_exchange_status,
    transition,
)
from libs.common.messages import (
    DriftSource,
    Fill,
    OrderCanceled,
    OrderFailed,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
    OrderType,
    OrderUncertain,
    PositionDrift,
    Side,
)
from libs.common.messages.events import OrderEvent

S = OrderState
T0 = datetime(2026, 1, 2, tzinfo=UTC)
INTENT = "01J00000000000000000000000"


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.PENDING, S.SUBMITTED),
        (S.PENDING, S.UNCERTAIN),
        (S.UNCERTAIN, S.FILLED),
        (S.UNCERTAIN, S.SUBMITTED),  # the uncertain order appeared after all
        (S.UNCERTAIN, S.PENDING),
        (S.UNCERTAIN, S.FAILED),  # it can no longer arrive: now the failure is final
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
        (S.SUBMITTED, S.UNCERTAIN),
        (S.FAILED, S.PENDING),
        (S.FAILED, S.SUBMITTED),  # a final failure stays final
        (S.PARTIALLY_FILLED, S.SUBMITTED),
    ],
)
def test_an_illegal_transition_raises(current: OrderState, target: OrderState) -> None:
    with pytest.raises(IllegalTransitionError, match=f"from {current.value} to {target.value}"):
        transition(current, target)


def test_terminal_states_have_no_way_out_and_uncertain_is_not_one_of_them() -> None:
    assert set(TRANSITIONS) == set(OrderState)
    assert {S.FILLED, S.CANCELED, S.REJECTED, S.FAILED} == TERMINAL
    assert not (OPEN | UNRESOLVED) & TERMINAL
    assert S.UNCERTAIN in UNRESOLVED
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


def _event(kind: type[OrderEvent], **fields: Any) -> OrderEvent:
    common: dict[str, Any] = {
        "tenant_id": "t",
        "correlation_id": INTENT,
        "causation_id": INTENT,
        "intent_id": INTENT,
        "client_order_id": "sp1",
        "account_label": "main",
        "exchange_id": "binance",
        "symbol": "BTC/USDT",
        "side": Side.BUY,
    }
    return kind(**(common | fields))


FILL = Fill(trade_id="1", price=Decimal(1), amount=Decimal(1), fee=Decimal(0), filled_at=T0)


@pytest.mark.parametrize(
    ("event", "state"),
    [
        (
            _event(
                OrderSubmitted,
                exchange_order_id="9",
                order_type=OrderType.MARKET,
                amount=Decimal(1),
                submitted_at=T0,
            ),
            S.SUBMITTED,
        ),
        (_event(OrderFilled, exchange_order_id="9", fills=(FILL,)), S.FILLED),
        (
            _event(OrderFilled, exchange_order_id="9", fills=(FILL,), complete=False),
            S.PARTIALLY_FILLED,
        ),
        (_event(OrderRejected, reason="no"), S.REJECTED),
        (_event(OrderFailed, reason="no"), S.FAILED),
        (_event(OrderUncertain, reason="not known yet"), S.UNCERTAIN),
        (_event(OrderCanceled, exchange_order_id="9"), S.CANCELED),
    ],
)
def test_each_order_event_reports_one_state(event: OrderEvent, state: OrderState) -> None:
    assert reported_state(event) is state


def test_a_drift_reports_no_state_of_its_order() -> None:
    drift = _event(
        PositionDrift,
        source=DriftSource.WALLET,
        expected=Decimal(1),
        actual=Decimal(0),
        message="m",
    )
    assert reported_state(drift) is None


def test_an_uncertain_failure_that_later_fills_ends_filled_while_a_final_one_cannot() -> None:
    state = S.PENDING
    for target in (S.UNCERTAIN, S.SUBMITTED, S.FILLED):
        state = transition(state, target)
    assert state is S.FILLED
    with pytest.raises(IllegalTransitionError):
        transition(S.FAILED, S.FILLED)

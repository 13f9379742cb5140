"""Open orders are asked about often while young and rarely once they rest."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from libs.common.fsm import OrderState
from services.executor.domain import OrderRecord
from services.executor.orders.tracker import PollBackoff, PollSchedule
from tests.factories import place_order

ROUND_S = 2.0
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _order(state: OrderState = OrderState.SUBMITTED, **changes: object) -> OrderRecord:
    record = OrderRecord.from_command(place_order(), 0, state, T0)
    return dataclasses.replace(record, **changes)  # type: ignore[arg-type]


def _polls(record: OrderRecord, minutes: float) -> int:
    """Run the tracker's rounds for ``minutes``; return how often the order was asked."""
    schedule, now, polls = PollSchedule(PollBackoff(), ROUND_S), T0, 0
    while now < T0 + timedelta(minutes=minutes):
        for due in schedule.due([record], now):
            schedule.polled(due, now)
            polls += 1
        now += timedelta(seconds=ROUND_S)
    return polls


def test_a_young_order_is_asked_about_every_round() -> None:
    assert _polls(_order(), minutes=0.5) == 15


def test_an_order_resting_for_an_hour_is_asked_about_about_once_a_minute() -> None:
    hour = _polls(_order(), minutes=60)
    last_ten = hour - _polls(_order(), minutes=50)
    assert 9 <= last_ten <= 11  # bounded: the longest gap is a minute
    assert hour < 120  # every round it would be 1,800


def test_an_order_in_doubt_is_asked_about_every_round_whatever_its_age() -> None:
    assert _polls(_order(OrderState.UNCERTAIN), minutes=10) == 300


def test_backoff_grows_with_age_between_the_round_and_the_bound() -> None:
    backoff = PollBackoff(young_s=30, age_fraction=0.1, max_s=60)
    assert [backoff.interval_s(a, ROUND_S) for a in (5, 40, 300, 3600)] == [2, 4, 30, 60]


def test_orders_no_longer_tracked_are_forgotten() -> None:
    schedule, order = PollSchedule(PollBackoff(), ROUND_S), _order()
    schedule.polled(order, T0 + timedelta(minutes=30))
    assert schedule.due([], T0) == []
    assert schedule.due([order], T0 + timedelta(minutes=30, seconds=1)) == [order]

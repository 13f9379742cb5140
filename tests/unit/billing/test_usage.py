"""What each event counts for, and how usage reads back."""

from __future__ import annotations

import re
from datetime import date

import pytest

from services.billing.domain.usage import Period, count_of, fold, period_range
from services.billing.errors import InvalidRequestError
from tests import factories


def test_each_kind_of_event_counts_towards_its_metric() -> None:
    accepted, rejected, submitted, filled, *others = factories.every_event("t1")
    counts = [count_of(e) for e in (accepted, rejected, submitted, filled)]  # type: ignore[arg-type]
    assert [c.metrics for c in counts if c] == [
        ("alerts_accepted",),
        ("alerts_rejected", "alerts_rejected.quota_exceeded"),
        ("orders_placed",),
        ("orders_filled",),
    ]
    assert counts[3] is not None
    assert counts[3].once_per_order == filled.client_order_id  # type: ignore[attr-defined]
    assert [count_of(e) for e in others] == [None] * len(others)  # type: ignore[arg-type]


def test_an_event_counts_on_its_utc_day_and_month() -> None:
    count = count_of(factories.every_event()[0])  # type: ignore[arg-type]
    assert count is not None
    assert count.month == count.day.replace(day=1)


def test_counters_fold_into_one_row_per_tenant_and_period() -> None:
    day = date(2026, 2, 1)
    rows = fold(
        Period.DAY,
        [
            ("b", day, "alerts_accepted", 2),
            ("a", day, "alerts_rejected", 3),
            ("a", day, "alerts_rejected.quota_exceeded", 1),
            ("a", day, "alerts_rejected.kill_switch", 2),
            ("a", day, "orders_filled", 1),
        ],
    )
    assert [r.tenant_id for r in rows] == ["a", "b"]
    assert rows[0].alerts_rejected_by_reason == {"quota_exceeded": 1, "kill_switch": 2}
    assert (rows[0].alerts_rejected, rows[0].orders_filled, rows[0].alerts_accepted) == (3, 1, 0)


def test_default_ranges_are_the_last_30_days_or_12_months() -> None:
    today = date(2026, 3, 15)
    assert period_range(Period.DAY, None, None, today) == (date(2026, 2, 14), today)
    assert period_range(Period.MONTH, None, None, today) == (date(2025, 4, 1), date(2026, 3, 1))


@pytest.mark.parametrize(
    ("period", "start", "end", "message"),
    [
        (Period.DAY, date(2026, 2, 2), date(2026, 2, 1), "'from' (2026-02-02) is after 'to'"),
        (Period.DAY, date(2024, 1, 1), date(2026, 1, 1), "at most 366 days"),
        (Period.MONTH, date(2020, 1, 1), date(2026, 1, 1), "at most 60 months"),
    ],
)
def test_a_bad_range_is_explained(period: Period, start: date, end: date, message: str) -> None:
    with pytest.raises(InvalidRequestError, match=re.escape(message)):
        period_range(period, start, end, date(2026, 3, 1))

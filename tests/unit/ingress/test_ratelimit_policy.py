"""How a plan's alerts per hour become a rate and a burst, and what a 429 tells TradingView."""

from __future__ import annotations

import pytest

from services.ingress.adapters.ratelimit import HOUR_US, RatePolicy
from services.ingress.errors import RateLimitedError


@pytest.mark.parametrize(
    ("per_hour", "burst"), [(1, 1), (3, 3), (10, 5), (100, 10), (1000, 100), (25, 5)]
)
def test_the_burst_is_a_tenth_of_the_hour_at_least_five_never_above_the_limit(
    per_hour: int, burst: int
) -> None:
    assert RatePolicy().burst(per_hour) == burst


def test_the_interval_spreads_the_limit_over_the_hour() -> None:
    interval, tolerance = RatePolicy().arguments(10)

    assert interval == HOUR_US // 10
    assert tolerance == 4 * interval


def test_a_huge_limit_still_has_a_positive_interval() -> None:
    assert RatePolicy().arguments(10**12)[0] == 1


@pytest.mark.parametrize(
    ("wait_s", "header"), [(0.001, "1"), (1.0, "1"), (1.2, "2"), (359.9, "360")]
)
def test_retry_after_is_whole_seconds_rounded_up_and_at_least_one(
    wait_s: float, header: str
) -> None:
    assert RateLimitedError("slow down", wait_s).headers["Retry-After"] == header

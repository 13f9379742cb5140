"""The paper exchange's request-weight rules, Binance's: count, refuse, then ban."""

from __future__ import annotations

from services.paper.limits import WeightCounter, WeightLimits, weight_of


class Clock:
    def __init__(self) -> None:
        self.now = 120.0

    def __call__(self) -> float:
        return self.now


def test_weights_are_binances_with_and_without_a_symbol() -> None:
    assert weight_of("POST", "/api/v3/order", b"") == 1
    assert weight_of("GET", "/api/v3/order", b"symbol=BTCUSDT&orderId=1") == 4
    assert weight_of("GET", "/api/v3/openOrders", b"symbol=BTCUSDT") == 6
    assert weight_of("GET", "/api/v3/openOrders", b"timestamp=1") == 80
    assert weight_of("GET", "/api/v3/account", b"") == 20


def test_an_address_over_its_limit_is_told_to_wait_for_the_next_window() -> None:
    clock = Clock()
    counter = WeightCounter(WeightLimits(limit=40, interval_s=60), clock)
    assert counter.charge("10.0.0.1", 20) == (20, None)
    assert counter.charge("10.0.0.1", 20) == (40, None)
    clock.now += 15
    used, refusal = counter.charge("10.0.0.1", 1)
    assert refusal is not None
    assert (used, refusal.status, refusal.code, refusal.retry_after_s) == (40, 429, -1003, 45)
    assert counter.charge("10.0.0.2", 20) == (20, None)  # another address has its own


def test_an_address_calling_on_while_told_to_wait_is_banned_until_the_ban_ends() -> None:
    clock = Clock()
    counter = WeightCounter(WeightLimits(limit=1, interval_s=60, ban_s=120, strikes=1), clock)
    counter.charge("a", 1)
    assert counter.charge("a", 1)[1].status == 429  # type: ignore[union-attr]
    assert counter.charge("a", 1)[1].status == 429  # type: ignore[union-attr]  # one strike
    _, ban = counter.charge("a", 1)
    assert ban is not None
    assert (ban.status, ban.retry_after_s) == (418, 120)
    clock.now += 119
    assert counter.charge("a", 1)[1].status == 418  # type: ignore[union-attr]
    clock.now += 1
    assert counter.charge("a", 1) == (1, None)


def test_without_a_limit_the_weight_is_counted_but_never_refused() -> None:
    counter = WeightCounter(WeightLimits(limit=None), Clock())
    for _ in range(1000):
        _, refusal = counter.charge("a", 80)
    assert refusal is None
    assert counter.header == b"x-mbx-used-weight-1m"

"""The weight budget's decisions: who goes now, who waits, and for how long."""

from __future__ import annotations

import asyncio
import time

import pytest

from services.executor.adapters.budget import (
    ROUTINE,
    URGENT,
    BudgetExhaustedError,
    BudgetSettings,
    WeightBudget,
)
from services.executor.adapters.metering import interval_tag, observe
from services.executor.adapters.venues import VENUES
from services.executor.config import executor_settings

INTERVAL_S = 0.5


def _budget(limit: float | None = 10, **settings: float) -> WeightBudget:
    return WeightBudget("test", limit, INTERVAL_S, BudgetSettings(margin=0, **settings))


async def _window_start() -> None:
    await asyncio.sleep(INTERVAL_S - time.time() % INTERVAL_S + 0.01)


async def test_requests_within_the_share_go_at_once_and_the_rest_waits_for_the_next_window() -> (
    None
):
    budget = _budget(10)
    await _window_start()
    started = time.monotonic()
    await asyncio.gather(*(budget.acquire(4) for _ in range(2)))
    assert time.monotonic() - started < 0.05
    await budget.acquire(4)
    assert time.monotonic() - started >= INTERVAL_S * 0.8


async def test_an_order_waiting_for_weight_goes_before_status_polls_queued_earlier() -> None:
    budget = _budget(2)
    await _window_start()
    await budget.acquire(2)
    went: list[str] = []

    async def ask(name: str, priority: int) -> None:
        await budget.acquire(2, priority=priority)
        went.append(name)

    polls = [asyncio.create_task(ask(f"poll {i}", ROUTINE)) for i in range(2)]
    await asyncio.sleep(0)
    order = asyncio.create_task(ask("order", URGENT))
    await asyncio.gather(order, *polls)
    assert went[0] == "order"


def test_a_replicas_share_and_the_margin_shrink_what_it_plans_to_use() -> None:
    budget = WeightBudget("test", 6000, 60, BudgetSettings(share=0.5, margin=0.1))
    assert budget.capacity == pytest.approx(2700)


def test_the_venues_count_beyond_the_other_replicas_share_is_counted_as_ours() -> None:
    budget = WeightBudget("test", 6000, 60, BudgetSettings(share=0.5, margin=0.1))
    budget.report(3500)  # the others may use 3000: 500 of it is ours
    assert budget.used == 500
    budget.report(2000)  # a count never lowers the estimate within a window
    assert budget.reported == 3500


async def test_a_retry_after_longer_than_the_wait_bound_refuses_the_request_unsent() -> None:
    budget = _budget(10, max_wait_s=1)
    budget.hold_off(5, banned=True)
    with pytest.raises(BudgetExhaustedError):
        await budget.acquire(1)


async def test_a_retry_after_holds_every_request_until_it_passes() -> None:
    budget = _budget(None)
    budget.hold_off(0.3, banned=False)
    started = time.monotonic()
    await budget.acquire(1)
    assert time.monotonic() - started >= 0.25


def test_binances_used_weight_header_and_a_429_are_read_from_an_answer() -> None:
    rule = VENUES["binance"].weight
    assert rule is not None
    budget = WeightBudget("test", rule.limit, rule.interval_s, BudgetSettings())
    observe(budget, rule, 429, {"X-MBX-USED-WEIGHT-1M": "5999", "Retry-After": "7"})
    assert budget.reported == 5999
    assert budget.blocked_until == pytest.approx(time.time() + 7, abs=0.5)


def test_binances_interval_names() -> None:
    assert [interval_tag(s) for s in (60, 2, 3600, 86_400, 90)] == ["1M", "2S", "1H", "1D", "90S"]


def test_replicas_share_the_limit_equally_unless_told_otherwise() -> None:
    assert executor_settings(replica_count=4).weight_share == 0.25
    assert executor_settings(replica_count=4, exchange_weight_share=1).weight_share == 1

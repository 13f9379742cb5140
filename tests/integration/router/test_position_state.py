"""Positions learned from fills, in real Redis: once per event, exact, safe under concurrency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import redis.asyncio as aioredis

from services.router.store.redis_state import RouterState

WHERE = ("main", "BTC/USDT")


def state(redis_client: aioredis.Redis, namespace: str) -> RouterState:
    return RouterState(redis_client, f"{namespace}:")


async def held(router: RouterState) -> dict[tuple[str, str], Decimal]:
    return (await router.snapshot("t1", "none", datetime.now(UTC))).positions


async def test_each_fill_event_moves_the_position_once_and_exactly(
    redis_client: aioredis.Redis, namespace: str
) -> None:
    router = state(redis_client, namespace)

    assert await router.apply_changes("t1", WHERE, [("t:1", Decimal("0.1"))])
    assert await router.apply_changes("t1", WHERE, [("t:2", Decimal("0.2"))])
    assert not await router.apply_changes("t1", WHERE, [("t:1", Decimal("0.1"))])  # again

    assert await held(router) == {WHERE: Decimal("0.3")}  # not 0.30000000000000004


async def test_a_position_back_at_zero_is_removed(
    redis_client: aioredis.Redis, namespace: str
) -> None:
    router = state(redis_client, namespace)
    await router.apply_changes("t1", WHERE, [("t:buy", Decimal("0.00012345"))])
    await router.apply_changes("t1", WHERE, [("t:sell", Decimal("-0.00012345"))])

    assert await held(router) == {}
    assert await redis_client.hlen(router.key("t1", "pos")) == 0


async def test_concurrent_fills_of_one_position_all_count(
    redis_client: aioredis.Redis, namespace: str
) -> None:
    # Concurrent calls run on several pooled connections and race on one field: every
    # compare-and-set that loses reads again.
    router = state(redis_client, namespace)
    events = [(f"e{i}", Decimal("0.01") * (1 if i % 3 else -1)) for i in range(120)]
    slots = asyncio.Semaphore(8)  # as many connections at once

    async def apply(event_id: str, delta: Decimal) -> bool:
        async with slots:
            return await router.apply_changes("t1", WHERE, [(event_id, delta)]) > 0

    results = await asyncio.gather(*(apply(*e) for e in events + events[:30]))  # 30 again

    assert sum(results) == len(events)
    assert await held(router) == {WHERE: Decimal("0.40")}

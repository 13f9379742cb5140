"""Make the bench's traders through the APIs, as an operator and the traders themselves would."""

from __future__ import annotations

import asyncio
import time

import httpx

from scripts.devstack import StackConfig
from tests.helpers.pipeline import DEFAULT_BALANCES, DEFAULT_LIMITS, Trader, provision

CONCURRENCY = 16  # more only queues: the services share two cores with the bench
BALANCES = dict(DEFAULT_BALANCES) | {"USDT": "10000000"}  # the hot tenant buys a lot


async def provision_many(
    cfg: StackConfig, count: int, *, alerts_per_hour: int | None = None
) -> tuple[list[Trader], float]:
    """Provision ``count`` traders, ``CONCURRENCY`` at a time; return them and the seconds taken.

    Each one is a billing tenant (pro plan, no limits but ``alerts_per_hour`` if given: then
    ingress pays its rate-limit call in Redis for every alert) with a webhook and an API
    key, a paper exchange account with balances (``BALANCES``), that account added to the
    executor (its keys into Vault), and its webhook known to ingress.
    """
    limits = dict(DEFAULT_LIMITS) | {"max_alerts_per_hour": alerts_per_hour}
    gate = asyncio.Semaphore(CONCURRENCY)
    started = time.perf_counter()

    async def one(client: httpx.AsyncClient, i: int) -> Trader:
        async with gate:
            return await provision(client, cfg, f"bench-{i:05d}", limits=limits, balances=BALANCES)

    async with httpx.AsyncClient(timeout=60) as client:
        traders = await asyncio.gather(*(one(client, i) for i in range(count)))
    return list(traders), time.perf_counter() - started

"""Make the bench's traders through the APIs, as an operator and the traders themselves would."""

from __future__ import annotations

import asyncio
import time

import httpx

from scripts.devstack import StackConfig
from tests.helpers.pipeline import Trader, provision

CONCURRENCY = 16  # more only queues: the services share two cores with the bench


async def provision_many(cfg: StackConfig, count: int) -> tuple[list[Trader], float]:
    """Provision ``count`` traders, ``CONCURRENCY`` at a time; return them and the seconds taken.

    Each one is a billing tenant (pro plan, no limits) with a webhook and an API key, a paper
    exchange account with balances, that account added to the executor (its keys into
    Vault), and its webhook known to ingress.
    """
    gate = asyncio.Semaphore(CONCURRENCY)
    started = time.perf_counter()

    async def one(client: httpx.AsyncClient, i: int) -> Trader:
        async with gate:
            return await provision(client, cfg, f"bench-{i:05d}")

    async with httpx.AsyncClient(timeout=60) as client:
        traders = await asyncio.gather(*(one(client, i) for i in range(count)))
    return list(traders), time.perf_counter() - started

"""Router throughput: intents/s through one router process on the real servers.

``python -m benchmarks.bench_router`` (part of ``make bench``). One in-process `RouterRuntime`
(the same object ``python -m services.router`` runs: one `PartitionedConsumer` owning all 16
partitions, default policy, plus the position projector; uvloop, as under uvicorn), with NATS
JetStream, Redis and
Postgres from ``SPARKY_NATS_URL``, ``SPARKY_REDIS_URL``, ``SPARKY_DATABASE_URL`` (defaults:
the local test servers). 10,000 tenants have trade settings in Postgres (a tenant layer and an
account layer each) and records in the ``tenants`` and ``accounts`` buckets. A backlog of one
intent per tenant is published, then drained twice: cold (each tenant's settings loaded from
Postgres on its first intent) and warm (served from the cache).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg
import nats
import redis.asyncio as aioredis
import uvloop
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy import insert

from libs.common.config import Environment
from libs.common.db import upgrade
from libs.common.jetstream import delete_topology, ensure_topology
from libs.common.messages import OrderIntent
from libs.common.records import account_key
from services.router.config import RouterSettings
from services.router.runtime import RouterRuntime
from services.router.store.tables import MIGRATIONS, trade_settings
from tests import factories
from tests.helpers.router import account, intent

TENANTS = 10_000
IN_FLIGHT = 256
NOW = datetime.now(UTC)


def settings_for(namespace: str) -> RouterSettings:
    return RouterSettings(
        environment=Environment.TEST,
        namespace=namespace,
        nats_url=os.environ.get("SPARKY_NATS_URL", "nats://127.0.0.1:4222"),
        redis_url=os.environ.get("SPARKY_REDIS_URL", "redis://127.0.0.1:6379/0"),
        redis_prefix=f"{namespace}:",
        database_url=os.environ.get(
            "SPARKY_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
        database_schema=namespace,
    )


async def gather_bounded(jobs: Sequence[object], limit: int = IN_FLIGHT) -> None:
    sem = asyncio.Semaphore(limit)

    async def one(job: object) -> None:
        async with sem:
            await job  # type: ignore[misc]

    await asyncio.gather(*(one(job) for job in jobs))


async def seed_postgres(runtime: RouterRuntime, tenants: list[str]) -> None:
    await upgrade(MIGRATIONS, runtime.settings.database_url, runtime.settings.schema_name)
    stamp = {"version": 1, "updated_at": NOW, "updated_by": "bench"}
    rows = []
    for tenant in tenants:
        rows.append(
            {"tenant_id": tenant, "account_label": "", "symbol": "", "scope": "tenant",
             "settings": {"quantity": "0.01", "max_order_base": "1"}, **stamp}
        )  # fmt: skip
        rows.append(
            {"tenant_id": tenant, "account_label": "main", "symbol": "", "scope": "account",
             "settings": {"directions": "long_only", "take_profit_percent": "2"}, **stamp}
        )  # fmt: skip
    async with runtime.engine.begin() as conn:
        await conn.execute(insert(trade_settings), rows)


async def seed_kv(js: JetStreamContext, runtime: RouterRuntime, tenants: list[str]) -> None:
    topo = runtime.topology
    tenants_kv = await js.key_value(topo.tenants_bucket)
    accounts_kv = await js.key_value(topo.accounts_bucket)
    limits = factories.plan_limits(max_alerts_per_hour=1000, max_orders_per_day=10_000)
    jobs = []
    for tenant in tenants:
        record = factories.tenant_record(tenant, plan="pro", limits=limits)
        jobs.append(tenants_kv.put(tenant, record.model_dump_json().encode()))
        acct = account(tenant)
        jobs.append(accounts_kv.put(account_key(tenant, "main"), acct.model_dump_json().encode()))
    await gather_bounded(jobs)


async def publish(js: JetStreamContext, runtime: RouterRuntime, intents: list[OrderIntent]) -> None:
    topo = runtime.topology
    await gather_bounded(
        [
            js.publish(
                topo.intent_subject(i.tenant_id),
                i.to_json(),
                stream=topo.intents_stream,
                headers={"Nats-Msg-Id": i.dedup_key},
            )
            for i in intents
        ]
    )


async def drain(js: JetStreamContext, runtime: RouterRuntime, expected: int) -> float:
    """Wait until ``expected`` orders exist in ORDERS; return the seconds it took."""
    start = time.perf_counter()
    stream = runtime.topology.orders_stream
    while (await js.stream_info(stream)).state.messages < expected:  # noqa: ASYNC110 - server state
        await asyncio.sleep(0.05)
    return time.perf_counter() - start


async def run() -> None:
    namespace = "bench" + secrets.token_hex(4)
    settings = settings_for(namespace)
    tenants = [f"b{n:05d}" for n in range(TENANTS)]
    runtime = RouterRuntime(settings)
    try:
        t0 = time.perf_counter()
        await seed_postgres(runtime, tenants)
        nc = await nats.connect(settings.nats_url)
        js = nc.jetstream()
        await ensure_topology(js, runtime.topology)
        await seed_kv(js, runtime, tenants)
        print(f"seeded {TENANTS:,} tenants in {time.perf_counter() - t0:.1f} s")
        await report(js, runtime, tenants)
        await nc.close()
    finally:
        await runtime.stop()
        await cleanup(runtime, namespace)


async def report(js: JetStreamContext, runtime: RouterRuntime, tenants: list[str]) -> None:
    await publish(js, runtime, [intent(t) for t in tenants])
    cpu0 = time.process_time()
    await runtime.start(migrate=False)
    cold = await drain(js, runtime, len(tenants))
    cpu1 = time.process_time()
    await publish(js, runtime, [intent(t) for t in tenants])
    warm = await drain(js, runtime, 2 * len(tenants))
    cpu2 = time.process_time()
    n = len(tenants)
    print(f"{'router, cold (settings from Postgres)':<44} {n / cold:>10,.0f} intents/s   "
          f"CPU {100 * (cpu1 - cpu0) / cold:.0f} % of one core")  # fmt: skip
    print(f"{'router, warm (settings cached)':<44} {n / warm:>10,.0f} intents/s   "
          f"CPU {100 * (cpu2 - cpu1) / warm:.0f} % of one core")  # fmt: skip


async def cleanup(runtime: RouterRuntime, namespace: str) -> None:
    """Delete the benchmark's streams, buckets, Redis keys and schema."""
    nc = await nats.connect(runtime.settings.nats_url)
    js = nc.jetstream()
    await delete_topology(js, runtime.topology)
    with contextlib.suppress(NotFoundError):
        await js.delete_key_value(runtime.topology.router_settings_bucket)
    await nc.close()
    client = aioredis.Redis.from_url(runtime.settings.redis_url)
    keys = [k async for k in client.scan_iter(match=f"{namespace}:*", count=1000)]
    for start in range(0, len(keys), 1000):
        await client.delete(*keys[start : start + 1000])
    await client.aclose()
    conn = await asyncpg.connect(runtime.settings.database_url)
    await conn.execute(f'DROP SCHEMA IF EXISTS "{namespace}" CASCADE')
    await conn.close()


def main() -> None:
    print("== router ==")
    uvloop.run(run())  # the loop uvicorn runs the service on


if __name__ == "__main__":
    main()

"""Billing's figures: tenant creation and how fast secrets reach (and leave) the KV buckets,
usage events counted per second, and a full reconciliation.

Run with ``.venv/bin/python -m benchmarks.bench_billing``. Needs NATS (``SPARKY_NATS_URL``,
default nats://127.0.0.1:4222) and Postgres (``SPARKY_BENCH_DATABASE_URL``, default
postgresql://postgres@127.0.0.1:5432/test); it uses a schema and namespace of its own and
removes them afterwards.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from operator import contains
from typing import Any

import asyncpg
import httpx
import nats
from asgi_lifespan import LifespanManager
from nats.aio.client import Client
from opentelemetry.sdk.trace import TracerProvider

from libs.common.config import load_settings
from libs.common.ids import TenantId, new_id, new_intent_id
from libs.common.jetstream import delete_topology
from libs.common.kv_mirror import KVMirror
from libs.common.messages import Action, IntentAccepted
from libs.common.messages.types import utcnow
from libs.common.records import WebhookTokenRecord, secret_digest
from libs.common.topology import Topology
from services.billing.app import create_app
from services.billing.config import BillingSettings
from services.billing.handlers import USAGE_CONSUMER
from services.billing.jobs import Maintenance

OPERATOR = "sop_benchmark-operator-token-0123"
HEADERS = {"Authorization": f"Bearer {OPERATOR}"}


def ms(values: list[float], q: float) -> str:
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e3:7.1f} ms"


def report(label: str, values: list[float]) -> None:
    print(
        f"{label:<46} p50 {ms(values, 0.5)}  p95 {ms(values, 0.95)}  "
        f"mean {statistics.fmean(values) * 1e3:6.1f} ms  (n={len(values)})"
    )


async def until(predicate: Callable[[], bool], timeout_s: float = 10.0) -> float:
    start = time.perf_counter()
    while not predicate():
        if time.perf_counter() - start > timeout_s:
            raise TimeoutError("not reached in time")
        await asyncio.sleep(0.0005)
    return time.perf_counter() - start


@asynccontextmanager
async def billing(
    settings: BillingSettings,
) -> AsyncIterator[tuple[httpx.AsyncClient, Maintenance]]:
    app = create_app(settings, tracer_provider=TracerProvider())
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://billing") as http:
            yield http, app.state.maintenance


def absent(mirror: KVMirror[WebhookTokenRecord], key: str) -> bool:
    return key not in mirror


async def tenants_and_tokens(
    http: httpx.AsyncClient, nc: Client, topology: Topology, n: int
) -> list[dict[str, Any]]:
    kv = await nc.jetstream().key_value(topology.webhook_tokens_bucket)
    mirror = KVMirror(nc, kv, WebhookTokenRecord.model_validate_json)
    await mirror.start()
    created, answered, visible, revoked = [], [], [], []
    try:
        for i in range(n):
            t0 = time.perf_counter()
            answer = (
                await http.post("/api/v1/tenants", json={"name": f"t{i}"}, headers=HEADERS)
            ).json()
            answered.append(time.perf_counter() - t0)
            digest = secret_digest(answer["webhook"]["token"])
            await until(partial(contains, mirror, digest))
            visible.append(time.perf_counter() - t0)
            created.append(answer)
        for answer in created[: n // 2]:
            tenant, hook = answer["tenant"]["tenant_id"], answer["webhook"]["webhook"]["webhook_id"]
            digest = secret_digest(answer["webhook"]["token"])
            t0 = time.perf_counter()
            await http.delete(f"/api/v1/tenants/{tenant}/webhooks/{hook}", headers=HEADERS)
            await until(partial(absent, mirror, digest))
            revoked.append(time.perf_counter() - t0)
    finally:
        await mirror.stop()
    report("create tenant (HTTP answer)", answered)
    report("create tenant -> token in a reader's mirror", visible)
    report("revoke webhook -> token gone from the mirror", revoked)
    return created


async def usage_rate(nc: Client, topology: Topology, tenants: list[str], n: int) -> None:
    js = nc.jetstream()
    now = utcnow()
    start = time.perf_counter()
    pending = []
    for i in range(n):
        tenant, intent = TenantId(tenants[i % len(tenants)]), new_intent_id()
        event = IntentAccepted(
            tenant_id=tenant,
            correlation_id=intent,
            causation_id=intent,
            intent_id=intent,
            webhook_id=new_id(),
            action=Action.BUY,
            symbol="BTCUSDT",
            received_at=now,
        )
        pending.append(js.publish(topology.event_subject(tenant, event.kind), event.to_json()))
        if len(pending) >= 256:
            await asyncio.gather(*pending)
            pending.clear()
    await asyncio.gather(*pending)
    while True:
        info = await js.consumer_info(topology.events_stream, USAGE_CONSUMER)
        if info.num_pending == 0 and info.num_ack_pending == 0:
            break
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - start
    print(f"{'usage: events published and counted':<46} {n / elapsed:8,.0f} events/s  (n={n})")


async def reconcile_time(jobs: Maintenance, nc: Client, topology: Topology, tenants: int) -> None:
    t0 = time.perf_counter()
    clean = await jobs.reconcile()
    in_sync = time.perf_counter() - t0
    await nc.jetstream().delete_key_value(topology.webhook_tokens_bucket)
    t0 = time.perf_counter()
    repaired = await jobs.reconcile()
    wiped = time.perf_counter() - t0
    label = f"reconcile, buckets in sync ({tenants} tenants)"
    print(f"{label:<46} {in_sync * 1e3:8.0f} ms  wrote {clean.written}")
    label = "reconcile, webhook-tokens bucket wiped"
    print(f"{label:<46} {wiped * 1e3:8.0f} ms  wrote {repaired.written}")


async def main_async(n_tenants: int = 200, n_events: int = 5000) -> None:
    namespace = "bench" + secrets.token_hex(4)
    database = os.environ.get(
        "SPARKY_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
    )
    settings = load_settings(
        BillingSettings,
        nats_url=os.environ.get("SPARKY_NATS_URL", "nats://127.0.0.1:4222"),
        namespace=namespace,
        database_url=database,
        database_schema=namespace,
        operator_token=OPERATOR,
        maintenance_interval_s=3600,
        reconcile_interval_s=3600,
    )
    topology = Topology.from_settings(settings)
    nc = await nats.connect(settings.nats_url)
    try:
        async with billing(settings) as (http, jobs):
            created = await tenants_and_tokens(http, nc, topology, n_tenants)
            await usage_rate(nc, topology, [c["tenant"]["tenant_id"] for c in created], n_events)
            await reconcile_time(jobs, nc, topology, n_tenants)
    finally:
        await delete_topology(nc.jetstream(), topology)
        await nc.close()
        conn = await asyncpg.connect(database)
        await conn.execute(f'DROP SCHEMA IF EXISTS "{namespace}" CASCADE')
        await conn.close()


def main() -> None:
    print("== billing ==")
    asyncio.run(main_async())


if __name__ == "__main__":
    main()

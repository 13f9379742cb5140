"""``python -m services.router`` starts against the configured servers and stops on SIGTERM."""

from __future__ import annotations

import asyncio
import random
import signal
from collections import defaultdict
from pathlib import Path

import httpx

from libs.common.messages import Action
from scripts.devstack import ServiceProcess
from services.router.config import RouterSettings
from tests import factories
from tests.helpers.router import Bus, account, intent
from tests.helpers.stack import one_service
from tests.integration.router.harness import SettingsFactory


def _router(settings: RouterSettings, data_dir: Path, **own: object) -> ServiceProcess:
    """The router as a process with these settings (and ``own`` on top)."""
    fields = {
        "partitions": settings.partitions,
        "nats_url": settings.nats_url,
        "redis_url": settings.redis_url,
        "redis_prefix": settings.key_prefix,
        "database_url": settings.database_url,
        "database_schema": settings.schema_name,
        "order_signing_key": settings.order_signing_key.get_secret_value(),
    }
    return one_service("router", data_dir, fields | own, namespace=settings.namespace)


async def test_the_router_process_serves_until_sigterm(
    router_settings: SettingsFactory, tmp_path: Path
) -> None:
    process = _router(router_settings(), tmp_path)
    process.start()
    try:
        await asyncio.to_thread(process.wait_ready)
        async with httpx.AsyncClient(base_url=process.url) as client:
            ready = await client.get("/readyz")
            assert ready.json()["checks"] == {"nats": "ok", "postgres": "ok", "redis": "ok"}
            metrics = (await client.get("/metrics")).text
            assert "sparky_router_decisions_total" in metrics
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught.
        assert await asyncio.to_thread(process.wait, 30) in (0, -signal.SIGTERM)
        assert "router stopped" in process.log()
    finally:
        await asyncio.to_thread(process.kill)


async def test_two_router_processes_keep_each_tenants_order_over_1000_intents(
    router_settings: SettingsFactory, bus: Bus, tmp_path: Path
) -> None:
    tenants = [f"t{i:02d}" for i in range(50)]
    for tenant in tenants:
        unlimited = factories.plan_limits(max_alerts_per_hour=None, max_orders_per_day=None)
        await bus.put_tenant(factories.tenant_record(tenant, limits=unlimited))
        await bus.put_account(account(tenant))
    settings = router_settings()
    replicas = [
        _router(settings, tmp_path / f"replica-{i}", replica_index=i, replica_count=2)
        for i in range(2)
    ]
    try:
        for process in replicas:
            process.start()
        for process in replicas:
            await asyncio.to_thread(process.wait_ready)
        sent: dict[str, list[str]] = defaultdict(list)
        rng = random.Random(11)
        for n in range(1000):
            one = intent(rng.choice(tenants), action=Action.BUY if n % 2 else Action.SELL)
            sent[one.tenant_id].append(one.intent_id)
            await bus.publish(one)
        orders = await bus.orders(1000, timeout_s=90)
        placed: dict[str, list[str]] = defaultdict(list)
        for order in orders:
            placed[order.tenant_id].append(order.intent_id)
        assert placed == sent
    finally:
        for process in replicas:
            await asyncio.to_thread(process.stop)

"""``python -m services.router`` starts against the configured servers and stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from collections import defaultdict

import httpx

from libs.common.messages import Action
from services.router.config import RouterSettings
from tests import factories
from tests.helpers.polling import eventually
from tests.helpers.ports import free_port
from tests.helpers.router import Bus, account, intent
from tests.integration.router.harness import SettingsFactory, Starter


def _env(settings: RouterSettings, port: int, **own: str) -> dict[str, str]:
    return (
        os.environ
        | {
            "SPARKY_ENVIRONMENT": "test",
            "SPARKY_NAMESPACE": settings.namespace,
            "SPARKY_PARTITIONS": str(settings.partitions),
            "SPARKY_NATS_URL": settings.nats_url,
            "SPARKY_HTTP_PORT": str(port),
            "SPARKY_ROUTER_REDIS_URL": settings.redis_url,
            "SPARKY_ROUTER_REDIS_PREFIX": settings.key_prefix,
            "SPARKY_ROUTER_DATABASE_URL": settings.database_url,
            "SPARKY_ROUTER_DATABASE_SCHEMA": settings.schema_name,
            "SPARKY_ORDER_SIGNING_KEY": settings.order_signing_key.get_secret_value(),
        }
        | {f"SPARKY_ROUTER_{key.upper()}": value for key, value in own.items()}
    )


async def test_the_router_process_serves_until_sigterm(
    router_settings: SettingsFactory, start_router: Starter
) -> None:
    settings, port = router_settings(), free_port()
    env = _env(settings, port)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.router", env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            ready = await _until_ready(client)
            assert ready.json()["checks"] == {"nats": "ok", "postgres": "ok", "redis": "ok"}
            metrics = (await client.get("/metrics")).text
            assert "sparky_router_decisions_total" in metrics
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught.
        assert await asyncio.wait_for(process.wait(), 30) in (0, -signal.SIGTERM)
        assert process.stderr is not None
        assert b"router stopped" in await process.stderr.read()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def _until_ready(client: httpx.AsyncClient) -> httpx.Response:
    return await eventually(
        lambda: client.get("/readyz"),
        until=lambda answer: answer.status_code == 200,
        what="the router ready",
        timeout_s=60,
        interval_s=0.2,
        retry_on=(httpx.TransportError,),
    )


async def test_two_router_processes_keep_each_tenants_order_over_1000_intents(
    router_settings: SettingsFactory, bus: Bus
) -> None:
    tenants = [f"t{i:02d}" for i in range(50)]
    for tenant in tenants:
        unlimited = factories.plan_limits(max_alerts_per_hour=None, max_orders_per_day=None)
        await bus.put_tenant(factories.tenant_record(tenant, limits=unlimited))
        await bus.put_account(account(tenant))
    settings, ports = router_settings(), (free_port(), free_port())
    replicas = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services.router",
            env=_env(settings, port, replica_index=str(i), replica_count="2"),
            stderr=asyncio.subprocess.DEVNULL,
        )
        for i, port in enumerate(ports)
    ]
    try:
        for port in ports:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                await _until_ready(client)
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
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), 30)

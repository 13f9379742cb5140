"""``python -m services.router`` starts against the configured servers and stops on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx

from scripts.devstack import ServiceProcess
from services.router.config import RouterSettings
from tests.helpers.stack import one_service
from tests.integration.router.harness import SettingsFactory


def _router(settings: RouterSettings, data_dir: Path) -> ServiceProcess:
    """The router as a process with these settings."""
    fields = {
        "partitions": settings.partitions,
        "nats_url": settings.nats_url,
        "redis_url": settings.redis_url,
        "redis_prefix": settings.key_prefix,
        "database_url": settings.database_url,
        "database_schema": settings.schema_name,
        "order_signing_key": settings.order_signing_key.get_secret_value(),
    }
    return one_service("router", data_dir, fields, namespace=settings.namespace)


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

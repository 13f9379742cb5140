"""``python -m services.router`` starts against the configured servers and stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import httpx

from tests.helpers.ports import free_port
from tests.integration.router.harness import SettingsFactory, Starter


async def test_the_router_process_serves_until_sigterm(
    router_settings: SettingsFactory, start_router: Starter
) -> None:
    settings, port = router_settings(), free_port()
    env = os.environ | {
        "SPARKY_ENVIRONMENT": "test",
        "SPARKY_NAMESPACE": settings.namespace,
        "SPARKY_NATS_URL": settings.nats_url,
        "SPARKY_HTTP_PORT": str(port),
        "SPARKY_ROUTER_REDIS_URL": settings.redis_url,
        "SPARKY_ROUTER_REDIS_PREFIX": settings.key_prefix,
        "SPARKY_ROUTER_DATABASE_URL": settings.database_url,
        "SPARKY_ROUTER_DATABASE_SCHEMA": settings.schema_name,
    }
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
    async with asyncio.timeout(60):
        while True:
            try:
                answer = await client.get("/readyz")
            except httpx.TransportError:
                answer = None
            if answer is not None and answer.status_code == 200:
                return answer
            await asyncio.sleep(0.2)

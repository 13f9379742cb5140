"""The service as deployed: its lifespan wires everything; the process stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import httpx
from asgi_lifespan import LifespanManager
from nats.js import JetStreamContext

from libs.common.topology import Topology
from services.ledger.app import create_app
from services.ledger.config import LedgerSettings
from tests.helpers.ledger import Order, fill, publish
from tests.helpers.polling import eventually
from tests.helpers.ports import free_port
from tests.integration.ledger.support import grant_key


async def test_the_app_projects_events_and_serves_them_with_its_probes(
    settings: LedgerSettings, js: JetStreamContext, topology: Topology
) -> None:
    app = create_app(settings)
    async with (
        LifespanManager(app, startup_timeout=60),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://l") as http,
    ):
        headers = await grant_key(js, topology, "tenant-a")
        await publish(js, topology, Order("tenant-a").trade(fill("t1", "100", "2")))

        async def projected() -> bool:
            response = await http.get("/api/v1/positions", headers=headers)
            return response.status_code == 200 and bool(response.json()["positions"])

        await eventually(projected, what="the position projected", timeout_s=15.0)
        assert (await http.get("/readyz")).status_code == 200
        metrics = (await http.get("/metrics")).text
    assert "sparky_ledger_lag_seconds" in metrics
    assert 'sparky_ledger_events_applied_total{kind="order.filled"}' in metrics


async def test_the_process_starts_migrates_and_stops_cleanly_on_sigterm(
    settings: LedgerSettings, js: JetStreamContext
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "SPARKY_ENVIRONMENT": "test",
        "SPARKY_NAMESPACE": settings.namespace,
        "SPARKY_NATS_URL": settings.nats_url,
        "SPARKY_LEDGER_DATABASE_URL": settings.database_url,
        "SPARKY_LEDGER_DATABASE_SCHEMA": settings.schema_name,
        "SPARKY_LEDGER_HTTP_PORT": str(port),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.ledger",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:

            async def ready() -> bool:
                return (await http.get("/readyz")).status_code == 200

            await eventually(
                ready, what="the ledger ready", timeout_s=60, retry_on=(httpx.TransportError,)
            )
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    # uvicorn shuts down gracefully, then re-raises the signal it caught, as it should.
    assert proc.returncode in {0, -signal.SIGTERM}
    log = err.decode()
    assert "Application shutdown complete" in log
    assert "Traceback" not in log

"""The service as deployed: its lifespan wires everything; the process stops on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager
from nats.js import JetStreamContext

from libs.common.topology import Topology
from services.ledger.app import create_app
from services.ledger.config import LedgerSettings
from tests.helpers.ledger import Order, fill, publish
from tests.helpers.polling import eventually
from tests.helpers.stack import one_service
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
    settings: LedgerSettings, js: JetStreamContext, tmp_path: Path
) -> None:
    own = {
        "nats_url": settings.nats_url,
        "database_url": settings.database_url,
        "database_schema": settings.schema_name,
    }
    process = one_service("ledger", tmp_path, own, namespace=settings.namespace)
    process.start()
    try:
        await asyncio.to_thread(process.wait_ready)
        process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(process.wait, 30)
    finally:
        await asyncio.to_thread(process.kill)
    # uvicorn shuts down gracefully, then re-raises the signal it caught, as it should.
    assert code in {0, -signal.SIGTERM}
    log = process.log()
    assert "Application shutdown complete" in log
    assert "Traceback" not in log

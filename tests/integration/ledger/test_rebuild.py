"""A rebuild replays EVENTS from its first event and ends with identical tables."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from pathlib import Path

from nats.aio.client import Client
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.topology import Topology
from scripts.devstack import run_command
from services.ledger.config import LedgerSettings
from services.ledger.handlers.projector import Projector
from services.ledger.handlers.rebuild import rebuild
from tests.helpers.ledger import Order, fill, publish, rich_story, strategy_story
from tests.helpers.namespaces import PgSchema
from tests.helpers.stack import service_config
from tests.integration.ledger.futures import futures_story
from tests.integration.ledger.support import applied_through, snapshot


async def project_everything(
    settings: LedgerSettings,
    engine: AsyncEngine,
    nc: Client,
    js: JetStreamContext,
    topology: Topology,
) -> int:
    """Publish a busy history (duplicates and a poison message included), project it, stop."""
    await publish(js, topology, rich_story("tenant-a"), twice=True)
    await js.publish(topology.event_subject("tenant-a", "order.filled"), b"not json")
    story = [
        *rich_story("tenant-b"),
        *rich_story("tenant-a"),
        *futures_story("tenant-a"),
        *strategy_story("tenant-a"),
    ]
    last = await publish(js, topology, story)
    projector = Projector(settings, engine, nc, topology)
    task = asyncio.create_task(projector.run())
    try:
        await applied_through(projector, last)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return last


async def test_a_rebuild_reproduces_the_tables_exactly_whatever_the_batch_size(
    settings: LedgerSettings,
    *,
    engine: AsyncEngine,
    nc: Client,
    js: JetStreamContext,
    topology: Topology,
    pg_schema: PgSchema,
) -> None:
    last = await project_everything(settings, engine, nc, js, topology)
    before = await snapshot(pg_schema.url, pg_schema.name)
    # tenant-a's second story reuses the exchange trade ids of its first: recorded once
    assert len(before["trades"]) == 10 + 5 + 6
    assert len(before["poison_events"]) == 1
    assert len(before["marks"]) == 1
    assert len(before["funding"]) == 1  # reported twice, recorded once
    assert len(before["strategy_totals"]) == 5  # Trend, Swing; their USDT and EUR PnL
    report = await rebuild(settings.model_copy(update={"batch_size": 3}))
    assert report.last_seq == last
    assert await snapshot(pg_schema.url, pg_schema.name) == before


async def run_cli(settings: LedgerSettings, *args: str) -> tuple[int, str, str]:
    own = {
        "nats_url": settings.nats_url,
        "database_url": settings.database_url,
        "database_schema": settings.schema_name,
        "log_json": "false",
    }
    cfg = service_config("ledger", Path(tempfile.gettempdir()), own, namespace=settings.namespace)
    done = await asyncio.to_thread(run_command, "ledger", cfg, *args, timeout_s=90)
    return done.returncode, done.stdout, done.stderr


async def test_the_rebuild_command_refuses_while_the_projector_runs_then_rebuilds(
    settings: LedgerSettings,
    *,
    engine: AsyncEngine,
    nc: Client,
    js: JetStreamContext,
    topology: Topology,
    pg_schema: PgSchema,
) -> None:
    await project_everything(settings, engine, nc, js, topology)
    before = await snapshot(pg_schema.url, pg_schema.name)
    running = Projector(settings, engine, nc, topology)
    task = asyncio.create_task(running.run())
    try:
        more = await publish(js, topology, Order("tenant-a").trade(fill("late", "1", "1")))
        await applied_through(running, more)  # it leads
        code, _, err = await run_cli(settings, "rebuild")
        assert code == 2
        assert "another ledger projector is running; stop it first" in err
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    after_more = await snapshot(pg_schema.url, pg_schema.name)
    assert after_more != before
    code, out, _ = await run_cli(settings, "rebuild")
    assert code == 0, out
    assert f"ledger rebuilt from {more} events" in out
    assert await snapshot(pg_schema.url, pg_schema.name) == after_more

"""The projector on real NATS and Postgres: exactly once, in order, never wedged."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from decimal import Decimal

import asyncpg
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.messages import Event, Side
from libs.common.topology import Topology
from services.ledger.config import LedgerSettings
from services.ledger.domain.rows import Sequenced
from services.ledger.handlers.codec import decode
from services.ledger.handlers.projector import Projector
from services.ledger.store.batch import Batch, apply_batch
from tests.helpers.ledger import Order, fill, publish
from tests.helpers.namespaces import PgSchema
from tests.helpers.polling import eventually
from tests.integration.ledger.support import applied_through, count_rows, snapshot

D = Decimal


async def position_of(pg: PgSchema, tenant: str, symbol: str = "BTC/USDT") -> asyncpg.Record:
    conn = await asyncpg.connect(pg.url)
    try:
        row = await conn.fetchrow(
            f'SELECT * FROM "{pg.name}".positions WHERE tenant_id = $1 AND symbol = $2',
            tenant,
            symbol,
        )
    finally:
        await conn.close()
    assert row is not None
    return row


def story(tenant: str) -> list[Event]:
    """Buy 1 @ 100 in two partial fills, add 1 @ 103, then sell 3 @ 110: short 1 @ 110."""
    first, second = Order(tenant), Order(tenant)
    flip = Order(tenant, side=Side.SELL)
    return [
        *first.opened("1"),
        first.filled(fill("t1", "100", "0.4", fee="0.04"), complete=False),
        first.filled(fill("t2", "100", "0.6", fee="0.06")),
        *second.trade(fill("t3", "103", "1", fee="0.001", fee_currency="BNB")),
        *flip.trade(fill("t4", "110", "3", fee="0.33")),
    ]


async def test_every_event_delivered_twice_still_counts_once(
    js: JetStreamContext, topology: Topology, projector: Projector, pg_schema: PgSchema
) -> None:
    events = story("tenant-a")
    last = await publish(js, topology, events, twice=True)
    await applied_through(projector, last)
    position = await position_of(pg_schema, "tenant-a")
    # 2 @ 101.5, sell 3 @ 110: +17 realized, short 1 @ 110; fees 0.04 + 0.06 + 0.33 USDT
    assert position["quantity"] == D(-1)
    assert position["average_price"] == D(110)
    assert position["realized_pnl"] == D("17") - D("0.43")
    assert position["fills"] == 4
    assert await count_rows(pg_schema.url, pg_schema.name, "trades") == 4
    assert await count_rows(pg_schema.url, pg_schema.name, "processed_events") == len(events)
    assert await count_rows(pg_schema.url, pg_schema.name, "order_events") == 7


async def test_a_fill_reported_again_in_a_new_event_counts_once(
    js: JetStreamContext, topology: Topology, projector: Projector, pg_schema: PgSchema
) -> None:
    order = Order("tenant-a")
    same = fill("t-same", "100", "1")
    last = await publish(js, topology, [*order.trade(same), order.filled(same)])
    await applied_through(projector, last)
    assert (await position_of(pg_schema, "tenant-a"))["quantity"] == 1
    assert await count_rows(pg_schema.url, pg_schema.name, "trades") == 1


async def test_a_message_that_is_not_an_event_is_set_aside_and_the_rest_applied(
    js: JetStreamContext, topology: Topology, projector: Projector, pg_schema: PgSchema
) -> None:
    order = Order("tenant-a")
    await publish(js, topology, order.opened())
    await js.publish(
        topology.event_subject("tenant-a", "order.filled"), b'{"kind": "order.filled"}'
    )
    last = await publish(js, topology, [order.filled(fill("t1", "100", "1"))])
    await applied_through(projector, last)
    assert (await position_of(pg_schema, "tenant-a"))["quantity"] == 1
    conn = await asyncpg.connect(pg_schema.url)
    try:
        poison = await conn.fetch(f'SELECT * FROM "{pg_schema.name}".poison_events')
    finally:
        await conn.close()
    assert [(p["stream_seq"], p["error"][:17]) for p in poison] == [(3, "not a valid event")]


async def test_an_event_the_database_cannot_hold_is_set_aside_and_the_rest_applied(
    js: JetStreamContext, topology: Topology, projector: Projector, pg_schema: PgSchema
) -> None:
    odd, fine = Order("tenant-a"), Order("tenant-a")
    events = [
        *odd.trade(fill("t-\x00", "100", "1")),  # valid JSON and str; Postgres text refuses NUL
        *fine.trade(fill("t-fine", "100", "2")),
    ]
    last = await publish(js, topology, events)
    await applied_through(projector, last)
    assert (await position_of(pg_schema, "tenant-a"))["quantity"] == 2
    assert await count_rows(pg_schema.url, pg_schema.name, "poison_events") == 1


async def test_a_batch_committed_before_a_crash_is_not_applied_again(
    settings: LedgerSettings,
    *,
    engine: AsyncEngine,
    nc: Client,
    js: JetStreamContext,
    topology: Topology,
    pg_schema: PgSchema,
) -> None:
    order = Order("tenant-a")
    events = order.trade(fill("t1", "100", "1"))
    last = await publish(js, topology, events)
    # A projector commits these events, then dies before acking them.
    sub = await js.pull_subscribe(topology.events_filter, stream=topology.events_stream)
    msgs = await sub.fetch(len(events), timeout=5)
    decoded = [decode(m.metadata.sequence.stream, m.subject, m.data, topology) for m in msgs]
    batch = Batch(tuple(d for d in decoded if isinstance(d, Sequenced)), (), last)
    async with engine.connect() as conn:
        await apply_batch(conn, batch, role=settings.writer_role, stream=topology.events_stream)
    await sub.unsubscribe()
    restarted = Projector(settings, engine, nc, topology)
    more = await publish(js, topology, [Order("tenant-a").filled(fill("t2", "100", "1"))])
    task = asyncio.create_task(restarted.run())
    try:
        await applied_through(restarted, more)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert (await position_of(pg_schema, "tenant-a"))["quantity"] == 2


async def test_a_second_projector_stands_by_while_the_first_leads(
    settings: LedgerSettings,
    *,
    engine: AsyncEngine,
    nc: Client,
    js: JetStreamContext,
    topology: Topology,
    projector: Projector,
    pg_schema: PgSchema,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    first = await publish(js, topology, Order("tenant-a").trade(fill("t1", "100", "1")))
    await applied_through(projector, first)  # the fixture's projector leads
    standby = Projector(settings, engine, nc, topology)
    task = asyncio.create_task(standby.run())
    try:
        await eventually(
            lambda: "another projector leads; standing by" in caplog.messages,
            what="the second projector standing by",
        )
        last = await publish(js, topology, Order("tenant-a").trade(fill("t2", "100", "1")))
        await applied_through(projector, last)
        assert standby.position == 0
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert (await position_of(pg_schema, "tenant-a"))["quantity"] == 2


async def test_lag_and_applied_events_are_exported_as_metrics(
    settings: LedgerSettings,
    *,
    engine: AsyncEngine,
    nc: Client,
    js: JetStreamContext,
    topology: Topology,
    pg_schema: PgSchema,
) -> None:
    order = Order("tenant-a")
    events = order.trade(fill("t1", "100", "1"))
    last = await publish(js, topology, events)

    def applied(kind: str) -> float:
        labels = {"kind": kind}
        return REGISTRY.get_sample_value("sparky_ledger_events_applied_total", labels) or 0.0

    before = applied("order.filled")
    clock_at = events[-1].occurred_at + timedelta(seconds=42)
    stopwatch = Projector(settings, engine, nc, topology, clock=lambda: clock_at)
    await stopwatch.rebuild(last, lock_timeout_s=5)
    assert REGISTRY.get_sample_value("sparky_ledger_lag_seconds") == 42.0
    assert applied("order.filled") == before + 1
    assert (await snapshot(pg_schema.url, pg_schema.name))["projector_state"][0][1] == str(last)

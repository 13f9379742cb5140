"""The projector outlives a NATS restart and the loss of its database session."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import nats
import pytest
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.errors import ServiceUnavailableError
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.jetstream import ensure_topology
from libs.common.messages import Event
from libs.common.topology import Topology
from services.ledger.config import LedgerSettings
from services.ledger.handlers.projector import Projector
from tests.helpers.ledger import Order, fill, publish
from tests.helpers.namespaces import PgSchema
from tests.helpers.polling import eventually
from tests.helpers.ports import PrivateNats
from tests.integration.ledger.support import applied_through


async def quantity(pg: PgSchema) -> object:
    conn = await asyncpg.connect(pg.url)
    try:
        return await conn.fetchval(f'SELECT sum(quantity) FROM "{pg.name}".positions')
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def running(projector: Projector) -> AsyncIterator[None]:
    task = asyncio.create_task(projector.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
def private_nats(tmp_path: Path) -> Iterator[PrivateNats]:
    server = PrivateNats(tmp_path / "jetstream")
    server.start()
    yield server
    server.kill()


async def publish_when_back(js: JetStreamContext, topology: Topology, events: list[Event]) -> int:
    """Publish once JetStream has recovered its streams (the Nats-Msg-Id makes retries safe)."""
    return await eventually(
        lambda: publish(js, topology, events),
        until=lambda _: True,
        what="JetStream back",
        retry_on=(NatsTimeoutError, NoRespondersError, ServiceUnavailableError),
    )


async def test_the_projector_carries_on_after_nats_restarts(
    settings: LedgerSettings,
    engine: AsyncEngine,
    topology: Topology,
    pg_schema: PgSchema,
    private_nats: PrivateNats,
) -> None:
    own = settings.model_copy(update={"nats_url": private_nats.url})
    nc = await nats.connect(private_nats.url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    try:
        js = nc.jetstream()
        await ensure_topology(js, topology)
        projector = Projector(own, engine, nc, topology)
        async with running(projector):
            await applied_through(
                projector, await publish(js, topology, Order("t").trade(fill("a", "1", "1")))
            )
            private_nats.kill()
            private_nats.start()  # same port, same store: the stream and its events survive

            await eventually(lambda: nc.is_connected, what="NATS reconnected", timeout_s=15.0)
            last = await publish_when_back(js, topology, Order("t").trade(fill("b", "1", "2")))
            await applied_through(projector, last, timeout_s=30)
    finally:
        await nc.close()
    assert await quantity(pg_schema) == 3


async def test_the_projector_starts_over_when_its_database_session_dies(
    settings: LedgerSettings,
    js: JetStreamContext,
    topology: Topology,
    projector: Projector,
    pg_schema: PgSchema,
) -> None:
    await applied_through(
        projector, await publish(js, topology, Order("t").trade(fill("a", "1", "1")))
    )
    conn = await asyncpg.connect(pg_schema.url)
    try:
        key = f"sparky-ledger-projector:{settings.schema_name}"
        killed = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' "
            "AND objid = ((hashtext($1)::bigint) & 4294967295)::oid",
            key,
        )
    finally:
        await conn.close()
    assert killed == 1
    last = await publish(js, topology, Order("t").trade(fill("b", "1", "2")))
    await applied_through(projector, last, timeout_s=30)
    assert await quantity(pg_schema) == 3


async def test_the_projector_recreates_its_consumer_when_someone_deletes_it(
    js: JetStreamContext, topology: Topology, projector: Projector, pg_schema: PgSchema
) -> None:
    first = await publish(js, topology, Order("t").trade(fill("a", "1", "1")))
    await applied_through(projector, first)
    await js.delete_consumer(topology.events_stream, "ledger")
    last = await publish(js, topology, Order("t").trade(fill("b", "1", "2")))
    await applied_through(projector, last, timeout_s=30)
    assert await quantity(pg_schema) == 3

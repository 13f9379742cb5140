"""The ledger on the test's own stream and schema: settings, a migrated engine, a projector."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from nats.aio.client import Client
from nats.js import JetStreamContext
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.auth import live_authenticator
from libs.common.config import Environment
from libs.common.topology import Topology
from services.ledger.api import routes as api
from services.ledger.api.reads import Reads
from services.ledger.config import LedgerSettings
from services.ledger.handlers.projector import Projector
from services.ledger.runtime import canceller
from services.ledger.store.database import engine_for, migrate
from tests.helpers.namespaces import PgSchema
from tests.helpers.servers import ServerUrls
from tests.helpers.signing import LEDGER_KEY


@pytest.fixture
def settings(server_urls: ServerUrls, topology: Topology, pg_schema: PgSchema) -> LedgerSettings:
    """Settings of a ledger on this test's namespace and schema, with quick timings."""
    return LedgerSettings(
        environment=Environment.TEST,
        namespace=topology.namespace,
        nats_url=server_urls.nats,
        database_url=pg_schema.url,
        database_schema=pg_schema.name,
        batch_wait_s=0.01,
        idle_poll_s=0.2,
        lock_poll_s=0.1,
        retry_backoff_s=0.2,
        log_json=False,
        order_signing_key=SecretStr(LEDGER_KEY),
    )


@pytest.fixture
async def engine(settings: LedgerSettings, js: JetStreamContext) -> AsyncIterator[AsyncEngine]:
    """An engine on the migrated schema (and the test's streams created)."""
    await migrate(settings)
    engine = engine_for(settings)
    yield engine
    await engine.dispose()


@pytest.fixture
async def projector(
    settings: LedgerSettings,
    engine: AsyncEngine,
    nc: Client,
    js: JetStreamContext,
    topology: Topology,
) -> AsyncIterator[Projector]:
    """A projector running in the background for the whole test."""
    running = Projector(settings, engine, nc, topology)
    task = asyncio.create_task(running.run())
    yield running
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


@pytest.fixture
async def client(
    settings: LedgerSettings,
    engine: AsyncEngine,
    nc: Client,
    js: JetStreamContext,
    topology: Topology,
) -> AsyncIterator[httpx.AsyncClient]:
    """The read API in process, with API keys checked against the test's KV buckets."""
    app = FastAPI()
    api.install(app)
    app.state.reads = Reads(engine, settings.reader_role)
    app.state.canceller = await canceller(nc, js, topology, settings.order_signing_key)
    async with live_authenticator(nc, js, topology) as auth:
        app.state.authenticator = auth
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ledger") as http:
            yield http

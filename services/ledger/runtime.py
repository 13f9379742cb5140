"""The long-lived object of a ledger process (`LedgerRuntime`): NATS, Postgres and the KV
mirrors, the projector as a background task, and what the read API needs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import nats
from fastapi import FastAPI
from nats.aio.client import Client
from nats.js import JetStreamContext
from pydantic import SecretStr

from libs.common.auth import live_authenticator
from libs.common.jetstream import ensure_topology
from libs.common.nats_access import connect_options
from libs.common.publishing import JetStreamPublisher
from libs.common.signing import CommandSigner, Issuer
from libs.common.topology import Topology
from services.ledger.api.cancels import Canceller
from services.ledger.api.reads import Reads
from services.ledger.api.signals import AlertSignals
from services.ledger.config import SERVICE, LedgerSettings
from services.ledger.handlers.projector import Projector
from services.ledger.store.database import engine_for, migrate


@asynccontextmanager
async def background(work: Coroutine[Any, Any, None], name: str) -> AsyncIterator[None]:
    """Run ``work`` while the block runs; cancel it on the way out."""
    task = asyncio.create_task(work, name=name)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def canceller(
    nc: Client, js: JetStreamContext, topology: Topology, signing_key: SecretStr
) -> Canceller:
    """Return the API's `Canceller`: publishes cancels signed with the ledger's key on ORDERS,
    reads accounts from their bucket."""
    publisher = JetStreamPublisher(nc, SERVICE)
    await publisher.start()
    accounts = await js.key_value(topology.accounts_bucket)
    return Canceller(publisher, accounts, topology, CommandSigner(Issuer.LEDGER, signing_key))


async def _nats(settings: LedgerSettings) -> Client:
    return await nats.connect(
        settings.nats_url,
        **connect_options(settings, SERVICE),
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        connect_timeout=5,
    )


async def _close(nc: Client) -> None:
    """Drain the connection if it is up (delivering what is in flight), else just close it."""
    if nc.is_connected:
        with contextlib.suppress(Exception):
            await nc.drain()
    await nc.close()


class LedgerRuntime:
    """One ledger process while it runs: the engine, NATS, the read API's objects and the
    projector, built without I/O and started by `running`.

    ``running`` puts on the app's state what the routes use (``reads``, ``canceller``,
    ``authenticator``, ``alert_signals``) and what the health checks probe (``engine``,
    ``nc``).
    """

    def __init__(self, settings: LedgerSettings) -> None:
        self.settings = settings
        self.topology = Topology.from_settings(settings)

    @asynccontextmanager
    async def running(self, app: FastAPI) -> AsyncIterator[None]:
        """Migrate, connect, start the mirrors and the projector; undo it all on the way
        out."""
        settings, topology = self.settings, self.topology
        await migrate(settings)
        async with AsyncExitStack() as stack:
            engine = engine_for(settings)
            stack.push_async_callback(engine.dispose)
            nc = await _nats(settings)
            stack.push_async_callback(_close, nc)
            js = nc.jetstream()
            await ensure_topology(js, topology, manage=False)
            app.state.engine, app.state.nc = engine, nc
            app.state.reads = Reads(engine, settings.reader_role)
            app.state.canceller = await canceller(nc, js, topology, settings.order_signing_key)
            app.state.authenticator = await stack.enter_async_context(
                live_authenticator(nc, js, topology, staleness_s=settings.kv_staleness_s)
            )
            signals = AlertSignals(engine, settings.schema_name)
            app.state.alert_signals = signals
            await stack.enter_async_context(background(signals.run(), "ledger-alert-signals"))
            if settings.projector_enabled:
                projector = Projector(settings, engine, nc, topology)
                await stack.enter_async_context(background(projector.run(), "ledger-projector"))
            yield

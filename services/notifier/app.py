"""Wiring and lifespan: Postgres (migrated at start in development), NATS and the KV mirrors
for tenant auth, the channels this deployment has, the EVENTS consumer, the sender, the daily
summary and the Telegram bot as background work; the routes and the operational endpoints.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import nats
from fastapi import FastAPI
from nats.aio.client import Client
from nats.js import JetStreamContext

from libs.common.auth import live_authenticator
from libs.common.jetstream import ensure_topology
from libs.common.nats_access import connect_options
from libs.common.service import bootstrap, mount_ops, postgres_check
from libs.common.topology import Topology
from services.notifier.api import channels as api
from services.notifier.api import telegram as telegram_routes
from services.notifier.bot import telegram as telegram_bot
from services.notifier.channels.discord import DiscordChannel
from services.notifier.channels.email import EmailChannel
from services.notifier.channels.webhook import WebhookChannel
from services.notifier.config import SERVICE, NotifierSettings, notifier_settings
from services.notifier.handlers import EventsConsumer
from services.notifier.runtime import Runtime, quiet_http_logs
from services.notifier.sender import Sender
from services.notifier.store.database import Database, migrate
from services.notifier.summary import Summaries


async def _nats(settings: NotifierSettings) -> Client:
    return await nats.connect(
        settings.nats_url,
        **connect_options(settings, SERVICE),
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        connect_timeout=5,
    )


async def _close(nc: Client) -> None:
    if nc.is_connected:
        with contextlib.suppress(Exception):
            await nc.drain()
    await nc.close()


def install_channels(runtime: Runtime) -> None:
    """Register every channel kind this deployment is configured for (the others stay off:
    adding such a channel is refused with 409)."""
    runtime.register(DiscordChannel(runtime))
    runtime.register(WebhookChannel(runtime))
    if runtime.settings.email_on:
        runtime.register(EmailChannel(runtime))
    runtime.telegram = telegram_bot.build(runtime)  # None: no bot token
    if runtime.telegram is not None:
        telegram_bot.install(runtime, runtime.telegram)


async def start_background(
    runtime: Runtime, js: JetStreamContext, topology: Topology, stack: AsyncExitStack
) -> None:
    """Start the EVENTS consumer and the sender (and the daily summary); stopped by
    ``stack`` on the way out."""
    settings = runtime.settings
    consumer = EventsConsumer(runtime, topology)
    await consumer.start(js, settings.batch_size, settings.batch_wait_s)
    stack.push_async_callback(consumer.stop)
    runtime.spawn(Sender(runtime).run(), "notifier-sender")
    if settings.email_on:
        runtime.spawn(Summaries(runtime).run(), "notifier-daily-summary")
    if runtime.telegram is not None:
        await telegram_bot.start(runtime, runtime.telegram)
        stack.push_async_callback(telegram_bot.stop, runtime.telegram)


@asynccontextmanager
async def running(app: FastAPI, settings: NotifierSettings) -> AsyncIterator[Runtime]:
    """Migrate, connect, register the channels, start the background work; undo it all."""
    topology = Topology.from_settings(settings)
    await migrate(settings)
    async with AsyncExitStack() as stack:
        runtime = Runtime(settings, Database.of(settings))
        stack.push_async_callback(runtime.close)
        nc = await _nats(settings)
        stack.push_async_callback(_close, nc)
        js = nc.jetstream()
        await ensure_topology(js, topology, manage=False)
        app.state.runtime, app.state.nc = runtime, nc
        app.state.authenticator = await stack.enter_async_context(
            live_authenticator(nc, js, topology, staleness_s=settings.kv_staleness_s)
        )
        install_channels(runtime)
        await start_background(runtime, js, topology, stack)
        yield runtime


def create_app(settings: NotifierSettings | None = None) -> FastAPI:
    """Return the notifier's ASGI app: tenant API, /healthz, /readyz, /metrics."""
    settings = settings or notifier_settings()
    tracer_provider = bootstrap(SERVICE, settings)
    quiet_http_logs()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running(app, settings):
            yield

    app = FastAPI(title="Sparky notifier", version="1", lifespan=lifespan)
    api.install(app)
    telegram_routes.install(app)

    async def database() -> None:
        await postgres_check(app.state.runtime.db.engine)()

    async def broker() -> None:
        if not app.state.nc.is_connected:
            raise ConnectionError("not connected to NATS")

    mount_ops(app, {"postgres": database, "nats": broker}, tracer_provider)
    return app

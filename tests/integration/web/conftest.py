"""The web app in-process against its own schema, a real billing served on a port (with NATS
and its own schema), and a real SMTP server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from nats.js import JetStreamContext
from opentelemetry.sdk.trace import TracerProvider

from libs.common.config import load_settings
from libs.common.topology import Topology
from scripts.mailbox import Mailbox
from services.billing.config import DEV_SIGNUP_TOKEN
from services.web.app import create_app
from services.web.config import WebSettings
from tests.helpers.billing import (
    Clock,
    billing_served,
    billing_settings_for,
)
from tests.helpers.namespaces import PgSchema, drop_schema
from tests.helpers.servers import ServerUrls
from tests.helpers.web import PUBLIC_URL, Browser, WebFactory, browser_of


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[Mailbox]:
    """The local SMTP server the web app mails through; each message a file in tmp_path."""
    box = Mailbox(tmp_path / "mail")
    box.start()
    yield box
    box.stop()


@pytest.fixture
async def billing_url(
    server_urls: ServerUrls, topology: Topology, pg_schema: PgSchema, js: JetStreamContext
) -> AsyncIterator[str]:
    settings = billing_settings_for(
        server_urls.nats,
        topology.namespace,
        pg_schema.url,
        pg_schema.name,
        signup_token=DEV_SIGNUP_TOKEN,
    )
    async with billing_served(settings) as (_, url):
        yield url


@pytest.fixture
async def web_schema(server_urls: ServerUrls, namespace: str) -> AsyncIterator[str]:
    name = f"{namespace}web"
    yield name
    conn = await asyncpg.connect(server_urls.postgres)
    try:
        await drop_schema(conn, name)
    finally:
        await conn.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def web_settings(
    server_urls: ServerUrls,
    topology: Topology,
    web_schema: str,
    billing_url: str,
    mailbox: Mailbox,
) -> WebSettings:
    return load_settings(
        WebSettings,
        environment="test",
        namespace=topology.namespace,
        database_url=server_urls.postgres,
        database_schema=web_schema,
        database_pool_size=4,
        public_url=PUBLIC_URL,
        billing_url=billing_url,
        smtp_port=mailbox.port,
    )


@pytest.fixture
def web_factory(web_settings: WebSettings, clock: Clock) -> WebFactory:
    """Start a web app with the test's settings, changed by keyword arguments."""

    @asynccontextmanager
    async def start(**changes: Any) -> AsyncIterator[FastAPI]:
        settings = web_settings.model_copy(update=changes)
        app = create_app(settings, clock=clock, tracer_provider=TracerProvider())
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
            yield app

    return start


@pytest.fixture
async def web(web_factory: WebFactory) -> AsyncIterator[FastAPI]:
    async with web_factory() as app:
        yield app


@pytest.fixture
async def browser(web: FastAPI) -> AsyncIterator[Browser]:
    async with browser_of(web) as opened:
        yield opened

"""Billing served on a real port, against the test's own Postgres schema and NATS namespace:
what the ``sparkyctl`` command talks to."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from nats.js import JetStreamContext
from opentelemetry.sdk.trace import TracerProvider

from libs.common.config import load_settings
from libs.common.topology import Topology
from services.billing.app import create_app
from services.billing.config import BillingSettings
from tests.helpers.billing import OPERATOR_TOKEN, served
from tests.helpers.namespaces import PgSchema
from tests.helpers.servers import ServerUrls


@pytest.fixture
async def billing_app(
    server_urls: ServerUrls, topology: Topology, pg_schema: PgSchema, js: JetStreamContext
) -> AsyncIterator[FastAPI]:
    settings = load_settings(
        BillingSettings,
        environment="test",
        nats_url=server_urls.nats,
        namespace=topology.namespace,
        database_url=pg_schema.url,
        database_schema=pg_schema.name,
        database_pool_size=4,
        operator_token=OPERATOR_TOKEN,
        public_base_url="https://hooks.sparky.test",
        maintenance_interval_s=3600,
        reconcile_interval_s=3600,
    )
    app = create_app(settings, tracer_provider=TracerProvider())
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
        yield app


@pytest.fixture
async def billing_url(billing_app: FastAPI) -> AsyncIterator[str]:
    async with served(billing_app) as url:
        yield url

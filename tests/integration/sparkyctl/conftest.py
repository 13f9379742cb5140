"""Billing served on a real port, against the test's own Postgres schema and NATS namespace:
what the ``sparkyctl`` command talks to."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from nats.js import JetStreamContext

from libs.common.topology import Topology
from tests.helpers.billing import billing_served, billing_settings_for
from tests.helpers.namespaces import PgSchema
from tests.helpers.servers import ServerUrls


@pytest.fixture
async def billing(
    server_urls: ServerUrls, topology: Topology, pg_schema: PgSchema, js: JetStreamContext
) -> AsyncIterator[tuple[FastAPI, str]]:
    settings = billing_settings_for(
        server_urls.nats, topology.namespace, pg_schema.url, pg_schema.name
    )
    async with billing_served(settings) as app_and_url:
        yield app_and_url


@pytest.fixture
def billing_app(billing: tuple[FastAPI, str]) -> FastAPI:
    return billing[0]


@pytest.fixture
def billing_url(billing: tuple[FastAPI, str]) -> str:
    return billing[1]

"""Fixtures of the router's integration tests: routers on the real servers, the test's names."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, suppress
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from asgi_lifespan import LifespanManager
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from opentelemetry.sdk.trace import TracerProvider

from libs.common.consumer import ConsumerPolicy
from libs.common.topology import Topology
from services.router.app import create_app
from services.router.config import RouterSettings
from services.router.runtime import RouterRuntime
from tests.helpers.namespaces import PgSchema
from tests.helpers.router import Bus
from tests.helpers.servers import ServerUrls
from tests.helpers.signing import ROUTER_KEY
from tests.integration.router.harness import (
    API_KEY,
    FAST,
    Api,
    ApiOpener,
    SettingsFactory,
    Starter,
)


@pytest.fixture
def router_settings(
    server_urls: ServerUrls, topology: Topology, pg_schema: PgSchema
) -> SettingsFactory:
    """Build the router's settings for this test's namespace, schema and Redis prefix."""

    def build(**overrides: Any) -> RouterSettings:
        fields: dict[str, Any] = {
            "environment": "test",
            "namespace": topology.namespace,
            "partitions": topology.partitions,
            "nats_url": server_urls.nats,
            "redis_url": server_urls.redis,
            "redis_prefix": f"{topology.namespace}:",
            "database_url": pg_schema.url,
            "database_schema": pg_schema.name,
            "database_pool_size": 4,
            "order_signing_key": ROUTER_KEY,
        }
        return RouterSettings(**(fields | overrides))

    return build


@pytest.fixture
async def start_router(
    router_settings: SettingsFactory,
    js: JetStreamContext,
    topology: Topology,
    redis_client: aioredis.Redis,
) -> AsyncIterator[Starter]:
    """Start routers (stopped after the test); the settings bucket is deleted afterwards."""
    started: list[RouterRuntime] = []

    async def start(
        policy: ConsumerPolicy = FAST, *, migrate: bool = True, **overrides: Any
    ) -> RouterRuntime:
        runtime = RouterRuntime(
            router_settings(**overrides), policy=policy, tracer_provider=TracerProvider()
        )
        await runtime.start(migrate=migrate)
        started.append(runtime)
        return runtime

    yield start
    for runtime in started:
        await runtime.stop()
    with suppress(NotFoundError):
        await js.delete_key_value(topology.router_settings_bucket)


@pytest.fixture
async def open_api(
    router_settings: SettingsFactory, start_router: Starter
) -> AsyncIterator[ApiOpener]:
    """Start the whole app (API and consumers) and return an HTTP client for it."""
    async with AsyncExitStack() as stack:

        async def open_(**overrides: Any) -> Api:
            app = create_app(
                router_settings(**overrides), policy=FAST, tracer_provider=TracerProvider()
            )
            await stack.enter_async_context(LifespanManager(app, startup_timeout=60))
            transport = httpx.ASGITransport(app=app)
            client = httpx.AsyncClient(
                transport=transport,
                base_url="http://router",
                headers={"Authorization": f"Bearer {API_KEY}"},
            )
            await stack.enter_async_context(client)
            return Api(client, app.state.runtime)

        yield open_


@pytest.fixture
async def bus(js: JetStreamContext, topology: Topology) -> Bus:
    """Write the config plane, publish intents, read what the router produced."""
    return Bus(js, topology)

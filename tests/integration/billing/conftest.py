"""Billing running in-process against the test's own Postgres schema and NATS namespace."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from nats.aio.client import Client
from nats.js import JetStreamContext
from opentelemetry.sdk.trace import TracerProvider

from libs.common.kv_mirror import KVMirror
from libs.common.records import ApiKeyRecord, TenantRecord, WebhookTokenRecord
from libs.common.topology import Topology
from services.billing.app import create_app
from services.billing.config import BillingSettings
from tests.helpers.billing import (
    STRIPE_PRICES,
    STRIPE_SECRET,
    Billing,
    Buckets,
    Clock,
    billing_settings_for,
)
from tests.helpers.namespaces import PgSchema
from tests.helpers.ports import PrivateNats
from tests.helpers.servers import ServerUrls


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def billing_settings(
    server_urls: ServerUrls, topology: Topology, pg_schema: PgSchema
) -> BillingSettings:
    return billing_settings_for(
        server_urls.nats,
        topology.namespace,
        pg_schema.url,
        pg_schema.name,
        stripe_webhook_secret=STRIPE_SECRET,
        stripe_prices=STRIPE_PRICES,
        payment_grace_days=3,
    )


@pytest.fixture
async def billing(
    billing_settings: BillingSettings, js: JetStreamContext, clock: Clock
) -> AsyncIterator[Billing]:
    app = create_app(billing_settings, clock=clock, tracer_provider=TracerProvider())
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://billing") as http:
            yield Billing(app, http)


@pytest.fixture
async def buckets(nc: Client, js: JetStreamContext, topology: Topology) -> AsyncIterator[Buckets]:
    mirrors = Buckets(
        KVMirror(nc, await js.key_value(topology.tenants_bucket), TenantRecord.model_validate_json),
        KVMirror(
            nc,
            await js.key_value(topology.webhook_tokens_bucket),
            WebhookTokenRecord.model_validate_json,
        ),
        KVMirror(
            nc, await js.key_value(topology.api_keys_bucket), ApiKeyRecord.model_validate_json
        ),
    )
    for mirror in (mirrors.tenants, mirrors.tokens, mirrors.api_keys):
        await mirror.start()
    yield mirrors
    for mirror in (mirrors.tenants, mirrors.tokens, mirrors.api_keys):
        await mirror.stop()


@pytest.fixture
def private_nats(tmp_path: Path) -> Iterator[PrivateNats]:
    """A NATS of the test's own, to stop while billing runs."""
    server = PrivateNats(tmp_path / "js")
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def billing_on_private_nats(
    billing_settings: BillingSettings, private_nats: PrivateNats, clock: Clock
) -> AsyncIterator[Billing]:
    settings = billing_settings.model_copy(
        update={"nats_url": private_nats.url, "kv_timeout_s": 0.5}
    )
    app = create_app(settings, clock=clock, tracer_provider=TracerProvider())
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://billing") as http:
            yield Billing(app, http)

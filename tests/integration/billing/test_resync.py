"""The buckets are rebuilt from Postgres: at start-up, and by the periodic reconciliation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from asgi_lifespan import LifespanManager
from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError
from opentelemetry.sdk.trace import TracerProvider

from libs.common.records import TenantStatus, secret_digest
from libs.common.topology import Topology
from services.billing.app import create_app
from services.billing.config import BillingSettings
from tests import factories
from tests.helpers.billing import Billing, Buckets, Clock
from tests.helpers.polling import eventually


async def has_key(js: JetStreamContext, bucket: str, key: str) -> bool:
    try:
        await (await js.key_value(bucket)).get(key)
    except KeyNotFoundError:
        return False
    return True


async def test_a_deleted_bucket_is_rebuilt_by_reconciliation(
    billing: Billing, js: JetStreamContext, topology: Topology
) -> None:
    created = await billing.create_tenant()
    digest = secret_digest(created["webhook"]["token"])
    await js.delete_key_value(topology.webhook_tokens_bucket)
    report = await billing.jobs.reconcile()
    assert report.written == 1
    assert await has_key(js, topology.webhook_tokens_bucket, digest)


async def test_reconciliation_removes_unknown_keys_and_rewrites_tampered_ones(
    billing: Billing, js: JetStreamContext, topology: Topology, buckets: Buckets
) -> None:
    created = await billing.create_tenant()
    tenant_id = created["tenant"]["tenant_id"]
    stray = factories.api_key_record(tenant_id)
    keys = await js.key_value(topology.api_keys_bucket)
    await keys.put("f" * 64, stray.model_dump_json().encode())
    tenants = await js.key_value(topology.tenants_bucket)
    forged = factories.tenant_record(tenant_id, status=TenantStatus.SUSPENDED)
    await tenants.put(tenant_id, forged.model_dump_json().encode())
    report = await billing.jobs.reconcile()
    assert (report.written, report.deleted) == (1, 1)
    assert not await has_key(js, topology.api_keys_bucket, "f" * 64)
    record = (await tenants.get(tenant_id)).value
    assert record is not None
    assert b'"status":"active"' in record
    assert (await billing.jobs.reconcile()).written == 0  # nothing left to repair


@asynccontextmanager
async def running(settings: BillingSettings, clock: Clock) -> AsyncIterator[Billing]:
    app = create_app(settings, clock=clock, tracer_provider=TracerProvider())
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://billing") as http:
            yield Billing(app, http)


async def test_billing_starting_on_a_wiped_nats_restores_every_bucket(
    billing_settings: BillingSettings, js: JetStreamContext, topology: Topology, clock: Clock
) -> None:
    async with running(billing_settings, clock) as billing:
        created = await billing.create_tenant()
    for bucket in topology.buckets():
        await js.delete_key_value(bucket)
    async with running(billing_settings, clock) as billing:
        tenant_id = created["tenant"]["tenant_id"]
        assert await has_key(js, topology.tenants_bucket, tenant_id)
        assert await has_key(
            js, topology.webhook_tokens_bucket, secret_digest(created["webhook"]["token"])
        )
        assert await has_key(js, topology.api_keys_bucket, secret_digest(created["api_key"]["key"]))
        await billing.wait_until_key_works(created["api_key"]["key"])


async def test_a_rotated_key_works_through_its_grace_then_leaves_the_bucket(
    billing: Billing, buckets: Buckets, clock: Clock
) -> None:
    created = await billing.create_tenant()
    old_key = created["api_key"]["key"]
    key_id = created["api_key"]["api_key"]["key_id"]
    rotated = await billing.http.post(
        f"/api/v1/api-keys/{key_id}/rotate",
        json={"grace_seconds": 60},
        headers={"Authorization": f"Bearer {old_key}"},
    )
    assert rotated.status_code == 201, rotated.text
    new_key = rotated.json()["key"]
    await billing.wait_until_key_works(new_key)
    await billing.wait_until_key_works(old_key)  # both work during the grace period

    clock.advance(timedelta(seconds=61))
    old = {"Authorization": f"Bearer {old_key}"}
    assert (await billing.http.get("/api/v1/account", headers=old)).status_code == 401
    assert await billing.jobs.retire_expired_secrets() == 1
    await eventually(
        lambda: secret_digest(old_key) not in buckets.api_keys,
        what="secret_digest(old_key) not in buckets.api_keys",
    )
    assert secret_digest(new_key) in buckets.api_keys
    assert await billing.jobs.retire_expired_secrets() == 0

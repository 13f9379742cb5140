"""Migration 0003: unsalted passphrase digests become salted slow hashes, and are republished."""

from __future__ import annotations

import hashlib

import asyncpg
from asgi_lifespan import LifespanManager
from nats.js import JetStreamContext
from opentelemetry.sdk.trace import TracerProvider

from libs.common.db import upgrade
from libs.common.ids import TenantId, new_id
from libs.common.jetstream import ensure_topology
from libs.common.passphrases import WRAPPED_SHA256, parse_stored, verify_passphrase
from libs.common.records import WebhookTokenRecord, secret_digest
from libs.common.topology import Topology
from services.billing.app import MIGRATIONS, create_app
from services.billing.config import BillingSettings
from tests.helpers.billing import Billing, Clock
from tests.helpers.namespaces import PgSchema

PASSPHRASE = "correct horse battery"
LEGACY = hashlib.sha256(PASSPHRASE.encode()).hexdigest()


async def _seed_0002(pg_schema: PgSchema, token: str) -> tuple[str, str]:
    """Write a tenant, a passphrase-protected webhook and its token as release 0002 did."""
    tenant_id, webhook_id = new_id(), new_id()
    conn = await asyncpg.connect(pg_schema.url)
    try:
        s = pg_schema.name
        await conn.execute(
            f"INSERT INTO {s}.tenants (tenant_id, name, lifecycle, plan, created_at, updated_at)"
            " VALUES ($1, 'Ada', 'active', 'free', now(), now())",
            tenant_id,
        )
        await conn.execute(
            f"INSERT INTO {s}.webhooks (webhook_id, tenant_id, label, passphrase_sha256, "
            "created_at) VALUES ($1, $2, 'ema', $3, now())",
            webhook_id,
            tenant_id,
            LEGACY,
        )
        await conn.execute(
            f"INSERT INTO {s}.webhook_tokens (digest, webhook_id, tenant_id, prefix, created_at)"
            " VALUES ($1, $2, $3, 'whk_abcd', now())",
            secret_digest(token),
            webhook_id,
            tenant_id,
        )
    finally:
        await conn.close()
    return tenant_id, webhook_id


async def test_an_unsalted_digest_is_wrapped_and_the_bucket_record_replaced_at_start(
    pg_schema: PgSchema,
    billing_settings: BillingSettings,
    js: JetStreamContext,
    topology: Topology,
) -> None:
    await upgrade(MIGRATIONS, pg_schema.url, pg_schema.name, revision="0002")
    token = "whk_" + "m" * 43
    tenant_id, webhook_id = await _seed_0002(pg_schema, token)
    bucket_key = secret_digest(token)
    await ensure_topology(js, topology)
    kv = await js.key_value(topology.webhook_tokens_bucket)
    published = WebhookTokenRecord(  # what the release before published
        tenant_id=TenantId(tenant_id), webhook_id=webhook_id, label="ema", passphrase_sha256=LEGACY
    )
    await kv.put(bucket_key, published.model_dump_json().encode())
    app = create_app(billing_settings, clock=Clock(), tracer_provider=TracerProvider())
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):  # 0003, then sync
        record = WebhookTokenRecord.model_validate_json((await kv.get(bucket_key)).value or b"")
    conn = await asyncpg.connect(pg_schema.url)
    try:
        stored = await conn.fetchval(
            f"SELECT passphrase_hash FROM {pg_schema.name}.webhooks WHERE webhook_id = $1",
            webhook_id,
        )
    finally:
        await conn.close()

    assert stored == record.passphrase_hash
    assert record.passphrase_sha256 is None
    assert (record.tenant_id, record.webhook_id) == (tenant_id, webhook_id)
    assert parse_stored(stored).scheme == WRAPPED_SHA256
    assert LEGACY not in stored
    assert verify_passphrase(PASSPHRASE, stored)
    assert not verify_passphrase(LEGACY, stored)


async def test_a_record_without_passphrase_is_written_as_the_release_before_can_read_it(
    billing: Billing, js: JetStreamContext, topology: Topology
) -> None:
    created = await billing.create_tenant()
    kv = await js.key_value(topology.webhook_tokens_bucket)

    value = (await kv.get(secret_digest(created["webhook"]["token"]))).value or b""

    assert b"passphrase" not in value  # a reader that forbids unknown fields still reads it
    assert WebhookTokenRecord.model_validate_json(value).passphrase_hash is None

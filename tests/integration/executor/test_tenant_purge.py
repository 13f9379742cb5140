"""Deleting a tenant in billing purges its exchange accounts from the executor: the rows, the
``accounts`` bucket entries, and every version and the metadata of its keys in Vault.

Billing and the executor run in this process on the test's NATS namespace (each with its own
Postgres schema), against the session's OpenBao with the executor's two AppRoles; the tenant is
deleted through billing's operator API, as an operator does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
import httpx
import hvac
import pytest
from asgi_lifespan import LifespanManager
from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import text

from libs.common.config import load_settings
from libs.common.ids import TenantId
from libs.common.messages import TenantDeleted
from libs.common.messages.types import utcnow
from libs.common.records import account_key
from libs.common.topology import Topology
from services.billing.app import create_app
from services.billing.config import BillingSettings
from services.executor.accounts.purge import DURABLE
from services.executor.runtime import Runtime
from tests.helpers.billing import OPERATOR_TOKEN
from tests.helpers.executor import VAULT_PREFIX
from tests.helpers.namespaces import PgSchema, drop_schema
from tests.helpers.polling import eventually
from tests.helpers.servers import ServerUrls
from tests.helpers.vault import VaultServer

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
ACCOUNTS = "/api/v1/exchange-accounts"


@dataclass
class Tenant:
    tenant_id: str
    auth: dict[str, str]


@pytest.fixture
async def billing_schema(server_urls: ServerUrls, namespace: str) -> AsyncIterator[PgSchema]:
    """Billing's own schema beside the executor's (each service migrates its own)."""
    name = f"{namespace}_billing"
    conn = await asyncpg.connect(server_urls.postgres)
    try:
        await conn.execute(f'CREATE SCHEMA "{name}"')
        yield PgSchema(url=server_urls.postgres, name=name)
    finally:
        await drop_schema(conn, name)
        await conn.close()


@pytest.fixture
async def billing(
    server_urls: ServerUrls, topology: Topology, billing_schema: PgSchema, js: JetStreamContext
) -> AsyncIterator[httpx.AsyncClient]:
    """Billing's API, started in this process on the test's namespace."""
    settings = load_settings(
        BillingSettings,
        environment="test",
        nats_url=server_urls.nats,
        namespace=topology.namespace,
        database_url=billing_schema.url,
        database_schema=billing_schema.name,
        database_pool_size=3,
        operator_token=OPERATOR_TOKEN,
        maintenance_interval_s=3600,
        reconcile_interval_s=3600,
    )
    app = create_app(settings, tracer_provider=TracerProvider())
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://billing") as client:
            yield client


async def new_tenant(billing: httpx.AsyncClient, executor: httpx.AsyncClient) -> Tenant:
    """Create a tenant in billing; return it once the executor accepts its API key."""
    answer = await billing.post(
        "/api/v1/tenants", json={"name": "Ada", "plan": "basic"}, headers=OPERATOR
    )
    assert answer.status_code == 201, answer.text
    created = answer.json()
    tenant = Tenant(created["tenant"]["tenant_id"], {"X-API-Key": created["api_key"]["key"]})

    async def known() -> bool:
        return (await executor.get(ACCOUNTS, headers=tenant.auth)).status_code == 200

    await eventually(known, what="the executor knows the tenant's API key", timeout_s=20.0)
    return tenant


async def add_account(executor: httpx.AsyncClient, tenant: Tenant, label: str) -> None:
    body = {"label": label, "exchange_id": "binance", "mode": "paper"}
    body |= {"api_key": f"key-{label}-0123456789", "secret": f"secret-{label}-0123456789"}
    created = await executor.post(ACCOUNTS, json=body, headers=tenant.auth)
    assert created.status_code == 201, created.text


class Traces:
    """Where an account leaves traces: its row, its bucket entry, its secret in Vault."""

    def __init__(
        self, runtime: Runtime, js: JetStreamContext, topology: Topology, vault: VaultServer
    ) -> None:
        self._runtime = runtime
        self._js = js
        self._topology = topology
        self._vault = hvac.Client(url=vault.url, token=vault.root_token)

    async def rows(self, tenant_id: str) -> set[str]:
        async with self._runtime.engine.connect() as conn:  # the order path sees every tenant
            query = text("SELECT label FROM accounts WHERE tenant_id = :t")
            return {row.label for row in await conn.execute(query, {"t": tenant_id})}

    async def bucket(self, tenant_id: str, labels: set[str]) -> set[str]:
        kv = await self._js.key_value(self._topology.accounts_bucket)
        found = set()
        for label in labels:
            entry = await _get_or_none(kv, account_key(tenant_id, label))
            if entry is not None:
                found.add(label)
        return found

    def vault(self, tenant_id: str, labels: set[str]) -> set[str]:
        """Labels with any trace in Vault: a readable version or metadata (versions kept)."""
        found = set()
        for label in labels:
            path = f"{VAULT_PREFIX}/{self._topology.namespace}/tenants/{tenant_id}/accounts/"
            path += label.encode().hex()
            if self._answers(path, metadata=False) or self._answers(path, metadata=True):
                found.add(label)
        return found

    def _answers(self, path: str, *, metadata: bool) -> bool:
        kv = self._vault.secrets.kv.v2
        try:
            if metadata:
                kv.read_secret_metadata(path=path)
            else:
                kv.read_secret_version(path=path, raise_on_deleted_version=False)
        except hvac.exceptions.InvalidPath:  # 404
            return False
        return True

    async def everywhere(self, tenant_id: str, labels: set[str]) -> dict[str, set[str]]:
        return {
            "rows": await self.rows(tenant_id),
            "bucket": await self.bucket(tenant_id, labels),
            "vault": self.vault(tenant_id, labels),
        }


async def _get_or_none(kv: KeyValue, key: str) -> KeyValue.Entry | None:
    try:
        return await kv.get(key)
    except KeyNotFoundError:
        return None


async def purger_caught_up(js: JetStreamContext, topology: Topology) -> None:
    """Wait until the executor acknowledged every tenant.deleted the stream holds."""
    stream = await js.stream_info(topology.events_stream)
    last = stream.state.last_seq

    async def acked() -> bool:
        info = await js.consumer_info(topology.events_stream, DURABLE)
        return info.ack_floor is not None and (info.ack_floor.stream_seq or 0) >= last

    await eventually(
        acked, what="the executor acknowledged the tenant.deleted events", timeout_s=20.0
    )


async def deadlettered(js: JetStreamContext, topology: Topology) -> int:
    info = await js.stream_info(topology.deadletter_stream, subjects_filter=">")
    return (info.state.subjects or {}).get(topology.deadletter_subject("EVENTS"), 0)


async def test_deleting_a_tenant_purges_its_accounts_keys_and_bucket_entries_only(
    *,
    billing: httpx.AsyncClient,
    http: httpx.AsyncClient,
    runtime: Runtime,
    js: JetStreamContext,
    topology: Topology,
    vault: VaultServer,
) -> None:
    gone, kept = await new_tenant(billing, http), await new_tenant(billing, http)
    for tenant, label in ((gone, "main"), (gone, "spare"), (kept, "main")):
        await add_account(http, tenant, label)
    traces = Traces(runtime, js, topology, vault)
    both = {"main", "spare"}
    assert await traces.everywhere(gone.tenant_id, both) == {
        "rows": both,
        "bucket": both,
        "vault": both,
    }
    before_kept = await traces.everywhere(kept.tenant_id, {"main"})
    assert before_kept == {"rows": {"main"}, "bucket": {"main"}, "vault": {"main"}}

    deleted = await billing.delete(f"/api/v1/tenants/{gone.tenant_id}", headers=OPERATOR)
    assert deleted.status_code == 204, deleted.text

    nothing: dict[str, set[str]] = {"rows": set(), "bucket": set(), "vault": set()}

    async def purged() -> bool:
        return await traces.everywhere(gone.tenant_id, both) == nothing

    await eventually(
        purged, what="the deleted tenant's accounts are gone everywhere", timeout_s=20.0
    )
    assert await traces.everywhere(kept.tenant_id, {"main"}) == before_kept
    listed = await http.get(ACCOUNTS, headers=kept.auth)
    assert [a["label"] for a in listed.json()["accounts"]] == ["main"]

    # A second delivery (billing announcing again after a crash): nothing left, nothing touched.
    again = TenantDeleted.of(TenantId(gone.tenant_id), utcnow())
    await js.publish(
        topology.event_subject(gone.tenant_id, again.kind),
        again.to_json(),
        stream=topology.events_stream,
        headers={"Nats-Msg-Id": again.message_id},
    )
    await purger_caught_up(js, topology)
    assert await traces.everywhere(gone.tenant_id, both) == nothing
    assert await traces.everywhere(kept.tenant_id, {"main"}) == before_kept
    assert await deadlettered(js, topology) == 0


async def test_an_old_deletion_event_for_a_tenant_billing_still_lists_purges_nothing(
    *,
    billing: httpx.AsyncClient,
    http: httpx.AsyncClient,
    runtime: Runtime,
    js: JetStreamContext,
    topology: Topology,
    vault: VaultServer,
) -> None:
    live = await new_tenant(billing, http)
    await add_account(http, live, "main")
    traces = Traces(runtime, js, topology, vault)
    before = await traces.everywhere(live.tenant_id, {"main"})
    assert before == {"rows": {"main"}, "bucket": {"main"}, "vault": {"main"}}

    forged = TenantDeleted.of(TenantId(live.tenant_id), utcnow()).model_copy(
        update={"occurred_at": utcnow() - timedelta(minutes=10)}
    )
    await js.publish(
        topology.event_subject(live.tenant_id, forged.kind),
        forged.to_json(),
        stream=topology.events_stream,
        headers={"Nats-Msg-Id": forged.message_id},
    )
    await purger_caught_up(js, topology)
    assert await deadlettered(js, topology) == 1
    assert await traces.everywhere(live.tenant_id, {"main"}) == before
    listed = await http.get(ACCOUNTS, headers=live.auth)
    assert [a["label"] for a in listed.json()["accounts"]] == ["main"]

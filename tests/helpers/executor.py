"""Helpers of the executor's tests: Vault identities, settings, tenants, orders and events."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import hvac
from nats.js import JetStreamContext

from libs.common.messages import CancelOrders, Event, PlaceOrder, decode_event
from libs.common.records import secret_digest
from libs.common.signing import CommandSigner
from libs.common.topology import Topology
from scripts.devstack import ROOT as REPO_ROOT
from services.executor.config import ExecutorSettings, executor_settings
from tests import factories
from tests.helpers.namespaces import PgSchema
from tests.helpers.polling import eventually
from tests.helpers.servers import ServerUrls
from tests.helpers.signing import ROUTER_SIGNER, verify_key_settings

VAULT_PREFIX = "sparky"
READ_POLICY = f'path "secret/data/{VAULT_PREFIX}/*" {{ capabilities = ["read"] }}'
WRITE_POLICY = f"""
path "secret/data/{VAULT_PREFIX}/*" {{ capabilities = ["create", "update", "read"] }}
path "secret/metadata/{VAULT_PREFIX}/*" {{ capabilities = ["delete"] }}
"""


FAST: dict[str, Any] = {
    # Both roles in one process, each with its own Vault identity: tests add accounts through
    # the API and trade them in one app (test_roles.py holds the roles apart).
    "role": "all",
    "environment": "test",
    "log_json": True,
    "consumer_ack_wait_s": 5.0,
    "retry_initial_s": 0.05,
    "retry_max_s": 0.5,
    "retry_give_up_s": 20.0,
    "tracker_interval_s": 0.2,
    "exchange_timeout_ms": 3000,
    "credentials_ttl_s": 60.0,
    "submission_settle_s": 1.0,
}


@dataclass(frozen=True)
class AppRole:
    role_id: str
    secret_id: str


@dataclass(frozen=True)
class VaultIdentities:
    """The trading path's read-only AppRole and the API's writing one."""

    url: str
    reader: AppRole
    writer: AppRole


def deployed_policies(namespace: str) -> tuple[str, str]:
    """Return deploy/vault's (read, write) policies, for ``namespace`` instead of the chart's
    default one, as docs/deploy.md tells an operator of another namespace to copy them.
    """
    policies = []
    for name in ("sparky-executor", "sparky-executor-api"):
        text = (REPO_ROOT / "deploy" / "vault" / f"{name}.hcl").read_text()
        default = f"/{VAULT_PREFIX}/sparky/tenants/"
        assert default in text, f"{name}.hcl no longer names {default}"
        policies.append(text.replace(default, f"/{VAULT_PREFIX}/{namespace}/tenants/"))
    return policies[0], policies[1]


def setup_approles(
    url: str,
    root_token: str,
    suffix: str = "test",
    policies: tuple[str, str] = (READ_POLICY, WRITE_POLICY),
) -> VaultIdentities:
    """Create the two policies (read, write) and AppRoles the executor logs in with."""
    root = hvac.Client(url=url, token=root_token)
    if "approle/" not in root.sys.list_auth_methods():
        root.sys.enable_auth_method("approle")
    roles = {}
    for name, policy in zip(("read", "write"), policies, strict=True):
        role = f"executor-{name}-{suffix}"
        root.sys.create_or_update_policy(name=role, policy=policy)
        root.auth.approle.create_or_update_approle(role, token_policies=[role])
        roles[name] = AppRole(
            role_id=root.auth.approle.read_role_id(role)["data"]["role_id"],
            secret_id=root.auth.approle.generate_secret_id(role)["data"]["secret_id"],
        )
    return VaultIdentities(url=url, reader=roles["read"], writer=roles["write"])


def vault_settings(identities: VaultIdentities) -> dict[str, Any]:
    """Return the executor settings that log in with ``identities``."""
    return {
        "vault_url": identities.url,
        "vault_prefix": VAULT_PREFIX,
        "vault_auth": "approle",
        "vault_role_id": identities.reader.role_id,
        "vault_secret_id": identities.reader.secret_id,
        "vault_write_auth": "approle",
        "vault_write_role_id": identities.writer.role_id,
        "vault_write_secret_id": identities.writer.secret_id,
    }


def make_settings(
    server_urls: ServerUrls,
    namespace: str,
    pg_schema: PgSchema,
    identities: VaultIdentities,
    paper_url: str,
    **overrides: Any,
) -> ExecutorSettings:
    """Return executor settings for one test's namespace and schema."""
    fields: dict[str, Any] = {
        "namespace": namespace,
        "nats_url": server_urls.nats,
        "database_url": server_urls.postgres,
        "database_schema": pg_schema.name,
        "paper_exchange_url": paper_url,
        **vault_settings(identities),
        **verify_key_settings(),
        **FAST,
    }
    return executor_settings(**(fields | overrides))


def new_api_key() -> str:
    return "spk_" + secrets.token_urlsafe(24)


async def seed_tenant(
    js: JetStreamContext,
    topology: Topology,
    tenant_id: str,
    *,
    api: httpx.AsyncClient | None = None,
    **limits: Any,
) -> str:
    """Put an active tenant and one API key of it in the buckets; return the key.

    With ``api`` (a client of the executor), wait until the executor's copies of the buckets
    know the key: they follow the buckets through a watch, a moment later.
    """
    key = new_api_key()
    record = factories.tenant_record(tenant_id, limits=factories.plan_limits(**limits))
    tenants = await js.key_value(topology.tenants_bucket)
    await tenants.put(tenant_id, record.model_dump_json().encode())
    api_keys = await js.key_value(topology.api_keys_bucket)
    await api_keys.put(
        secret_digest(key), factories.api_key_record(tenant_id).model_dump_json().encode()
    )
    if api is not None:
        await _known(api, key)
    return key


async def _known(api: httpx.AsyncClient, key: str, timeout_s: float = 10.0) -> None:
    auth = {"Authorization": f"Bearer {key}"}

    async def answer() -> int:
        return (await api.get("/api/v1/exchange-accounts", headers=auth)).status_code

    await eventually(
        answer,
        until=lambda status: status != 401,
        what="the executor knowing the API key",
        timeout_s=timeout_s,
    )


def market_order(tenant_id: str, **overrides: Any) -> PlaceOrder:
    """A market buy of 0.001 BTC/USDT on the paper account labelled ``main``."""
    fields: dict[str, Any] = {
        "leg": 0,
        "symbol": "BTC/USDT",
        "side": "buy",
        "order_type": "market",
        "sizing": {"rule": "base", "value": "0.001"},
        "limit_price": None,
        "reduce_only": False,
        "leverage": None,
        "take_profit": None,
    }
    return factories.place_order(tenant_id, **(fields | overrides))


async def publish_order(
    js: JetStreamContext,
    topology: Topology,
    command: PlaceOrder | CancelOrders,
    msg_id: str | None = None,
    *,
    signer: CommandSigner | None = ROUTER_SIGNER,
    subject: str | None = None,
) -> None:
    """Publish ``command`` to ORDERS as the router does (a distinct ``msg_id`` makes a second
    delivery): signed by ``signer`` (None: unsigned) on its tenant's subject, or ``subject``.
    """
    subject = subject or topology.order_subject(command.tenant_id)
    payload = command.to_json()
    headers = {"Nats-Msg-Id": msg_id or command.message_id}
    if signer is not None:
        headers |= signer.header(subject, payload)
    await js.publish(subject, payload, stream=topology.orders_stream, headers=headers)


async def stored_events(
    js: JetStreamContext, topology: Topology, tenant_id: str | None = None
) -> list[Event]:
    """Return every event JetStream stored (of one tenant, or all), in stream order."""
    subject = topology.tenant_events_filter(tenant_id) if tenant_id else topology.events_filter
    info = await js.stream_info(topology.events_stream)
    if not info.state.messages:
        return []
    sub = await js.pull_subscribe(subject, stream=topology.events_stream)
    events: list[Event] = []
    try:
        expected = (await sub.consumer_info()).num_pending or 0
        while len(events) < expected:
            for msg in await sub.fetch(min(100, expected - len(events)), timeout=5):
                events.append(decode_event(msg.data))
                await msg.ack()
    finally:
        await sub.unsubscribe()
    return events


async def wait_for_events(
    js: JetStreamContext,
    topology: Topology,
    tenant_id: str,
    done: Callable[[Sequence[Event]], bool],
    timeout_s: float = 30.0,
) -> list[Event]:
    """Read the tenant's stored events until ``done`` holds; fail after ``timeout_s``."""
    return await eventually(
        lambda: stored_events(js, topology, tenant_id),
        until=done,
        what=f"{tenant_id}'s events",
        timeout_s=timeout_s,
        interval_s=0.2,
    )


def kinds(events: Sequence[Event]) -> list[str]:
    return [e.kind for e in events]

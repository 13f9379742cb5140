"""``python -m tools.sparkyctl`` as a process, against billing served on a real port.

The command reaches billing through its HTTP API only; what it changed is checked where the
rest of Sparky sees it (the KV buckets ingress and the router read).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from nats.js import JetStreamContext
from nats.js.errors import KeyDeletedError, KeyNotFoundError
from nats.js.kv import KeyValue

from libs.common.records import TenantRecord, TenantStatus, WebhookTokenRecord, secret_digest
from libs.common.topology import Topology
from tests import factories
from tests.helpers.billing import OPERATOR_TOKEN, free_socket
from tests.helpers.polling import eventually

ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Run:
    """How one ``sparkyctl`` run ended."""

    code: int
    out: str
    err: str


async def sparkyctl(url: str, *args: str, token: str = OPERATOR_TOKEN) -> Run:
    """Run the command as an operator would, while this loop serves billing."""
    env = os.environ | {"SPARKY_BILLING_URL": url, "SPARKY_OPERATOR_TOKEN": token}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tools.sparkyctl",
        *args,
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return Run(proc.returncode, out.decode(), err.decode())


def field(output: str, name: str) -> str:
    match = re.search(rf"^{re.escape(name)}:\s+(\S+)", output, re.MULTILINE)
    assert match, f"no {name} in {output!r}"
    return match.group(1)


def field_line(output: str, name: str) -> str:
    """The whole value of a ``name:`` line (``field`` stops at the first space)."""
    match = re.search(rf"^{re.escape(name)}:\s+(.+)$", output, re.MULTILINE)
    assert match, f"no {name} in {output!r}"
    return match.group(1)


def webhook_token(output: str) -> str:
    return field(output, "webhook_url").rsplit("/", 1)[1]


async def entry(kv: KeyValue, key: str) -> bytes | None:
    """The bucket's value for ``key``, or None when it has none (never set, or deleted)."""
    try:
        return (await kv.get(key)).value
    except (KeyNotFoundError, KeyDeletedError):
        return None


async def token_record(js: JetStreamContext, topology: Topology, token: str) -> WebhookTokenRecord:
    kv = await js.key_value(topology.webhook_tokens_bucket)
    value = await entry(kv, secret_digest(token))
    assert value is not None
    return WebhookTokenRecord.model_validate_json(value)


async def tenant_record(js: JetStreamContext, topology: Topology, tenant_id: str) -> TenantRecord:
    kv = await js.key_value(topology.tenants_bucket)
    value = await entry(kv, tenant_id)
    assert value is not None
    return TenantRecord.model_validate_json(value)


async def test_a_tenant_created_with_sparkyctl_has_its_token_in_the_bucket_within_two_seconds(
    billing_url: str, js: JetStreamContext, topology: Topology
) -> None:
    result = await sparkyctl(billing_url, "tenant", "create", "Ada Lovelace", "--plan", "basic")
    assert result.code == 0, result.err
    token = webhook_token(result.out)
    assert field(result.out, "webhook_url") == f"https://hooks.sparky.test/webhooks/tv/{token}"
    assert token.startswith("whk_")
    assert field(result.out, "api_key").startswith("spk_")
    assert "shown this once" in field_line(result.out, "note")
    kv = await js.key_value(topology.webhook_tokens_bucket)
    await eventually(
        lambda: _present(kv, secret_digest(token)),
        what="the token in the bucket",
        timeout_s=2.0,
    )
    record = await token_record(js, topology, token)
    assert record.tenant_id == field(result.out, "tenant_id")


async def _present(kv: KeyValue, key: str) -> bool:
    return await entry(kv, key) is not None


async def _absent(kv: KeyValue, key: str) -> bool:
    return await entry(kv, key) is None


async def test_a_token_revoked_with_sparkyctl_leaves_the_bucket_within_two_seconds(
    billing_url: str, js: JetStreamContext, topology: Topology
) -> None:
    created = await sparkyctl(billing_url, "tenant", "create", "Ada")
    tenant_id, webhook_id = field(created.out, "tenant_id"), field(created.out, "webhook_id")
    digest = secret_digest(webhook_token(created.out))
    kv = await js.key_value(topology.webhook_tokens_bucket)
    await eventually(lambda: _present(kv, digest), what="the token in the bucket")
    revoked = await sparkyctl(billing_url, "token", "revoke", tenant_id, webhook_id)
    assert (revoked.code, revoked.out) == (0, f"revoked {webhook_id}\n")
    await eventually(
        lambda: _absent(kv, digest), what="the token gone from the bucket", timeout_s=2.0
    )


async def test_the_operator_suspends_re_plans_and_rotates_with_sparkyctl(
    billing_url: str, js: JetStreamContext, topology: Topology
) -> None:
    created = await sparkyctl(billing_url, "tenant", "create", "Ada")
    tenant_id, webhook_id = field(created.out, "tenant_id"), field(created.out, "webhook_id")
    old = webhook_token(created.out)

    suspended = await sparkyctl(billing_url, "tenant", "suspend", tenant_id)
    assert field(suspended.out, "status") == "suspended"
    tenants = await js.key_value(topology.tenants_bucket)

    async def status_is(status: TenantStatus) -> bool:
        value = await entry(tenants, tenant_id)
        return value is not None and TenantRecord.model_validate_json(value).status is status

    await eventually(
        lambda: status_is(TenantStatus.SUSPENDED), what="the tenant suspended in the bucket"
    )

    limits = ["--limit", "max_alerts_per_hour=5000", "--limit", "max_leverage=50"]
    plan = await sparkyctl(billing_url, "plan", "set", tenant_id, "pro", *limits)
    assert plan.code == 0, plan.err
    assert field(plan.out, "limits.max_alerts_per_hour") == "5000"
    assert field(plan.out, "limits.max_leverage") == "50"
    assert field(plan.out, "limits.max_webhooks") == "unlimited"
    assert (await tenant_record(js, topology, tenant_id)).plan == "pro"

    rotated = await sparkyctl(
        billing_url, "token", "rotate", tenant_id, webhook_id, "--grace", "600"
    )
    assert rotated.code == 0, rotated.err
    tokens = await js.key_value(topology.webhook_tokens_bucket)
    await eventually(
        lambda: _present(tokens, secret_digest(webhook_token(rotated.out))),
        what="the new token in the bucket",
    )
    assert (await token_record(js, topology, old)).expires_at is not None  # both work a while

    listed = await sparkyctl(billing_url, "token", "list", tenant_id)
    assert "(expiring)" in listed.out
    assert "(active)" in listed.out
    assert webhook_token(rotated.out) not in listed.out
    assert old not in listed.out


async def test_api_keys_are_printed_once_and_listed_by_their_prefix(billing_url: str) -> None:
    created = await sparkyctl(billing_url, "tenant", "create", "Ada")
    tenant_id = field(created.out, "tenant_id")
    issued = await sparkyctl(billing_url, "apikey", "create", tenant_id, "--label", "bot")
    key, key_id = field(issued.out, "api_key"), field(issued.out, "key_id")
    listed = await sparkyctl(billing_url, "apikey", "list", tenant_id)
    revoked = await sparkyctl(billing_url, "apikey", "revoke", tenant_id, key_id)
    after = await sparkyctl(billing_url, "--json", "apikey", "list", tenant_id)

    assert key.startswith("spk_")
    assert key not in listed.out
    assert f"{key[:8]}…" in listed.out
    assert revoked.out == f"revoked {key_id}\n"
    states = {k["key_id"]: k["state"] for k in json.loads(after.out)}
    assert states[key_id] == "revoked"


async def test_a_tenant_is_deleted_only_once_confirmed(
    billing_url: str, js: JetStreamContext, topology: Topology
) -> None:
    created = await sparkyctl(billing_url, "tenant", "create", "Ada")
    tenant_id = field(created.out, "tenant_id")
    kv = await js.key_value(topology.webhook_tokens_bucket)
    digest = secret_digest(webhook_token(created.out))
    await eventually(lambda: _present(kv, digest), what="the token in the bucket")

    unconfirmed = await sparkyctl(billing_url, "tenant", "delete", tenant_id)  # stdin: nothing
    assert unconfirmed.code == 1
    assert field((await sparkyctl(billing_url, "tenant", "show", tenant_id)).out, "status") == (
        "active"
    )
    deleted = await sparkyctl(billing_url, "tenant", "delete", tenant_id, "--yes")
    assert (deleted.code, deleted.out) == (0, f"deleted {tenant_id}\n")
    await eventually(
        lambda: _absent(kv, digest), what="the token gone from the bucket", timeout_s=2.0
    )
    listed = await sparkyctl(billing_url, "tenant", "list")
    assert tenant_id not in listed.out
    assert tenant_id in (await sparkyctl(billing_url, "tenant", "list", "--all")).out


async def test_usage_list_prints_every_tenants_counts(
    billing_app: FastAPI, billing_url: str
) -> None:
    created = await sparkyctl(billing_url, "tenant", "create", "Ada")
    tenant_id = field(created.out, "tenant_id")
    accepted = factories.every_event(tenant_id)[0].model_copy(update={"occurred_at": factories.T0})
    assert await billing_app.state.services.usage.record(accepted.to_json())
    period = ["--period", "month", "--from", "2026-01-01", "--to", "2026-01-31"]
    result = await sparkyctl(billing_url, "usage", "list", *period)
    assert result.code == 0, result.err
    header, *rows = result.out.splitlines()
    assert header.split() == ["TENANT", "MONTH", "ACCEPTED", "REJECTED", "PLACED", "FILLED"]
    assert [row.split() for row in rows] == [[tenant_id, "2026-01-01", "1", "0", "0", "0"]]


async def test_sparkyctl_refuses_to_work_without_the_operator_token(billing_url: str) -> None:
    missing = await sparkyctl(billing_url, "tenant", "list", token="")
    assert missing.code == 2
    assert "SPARKY_OPERATOR_TOKEN" in missing.err
    wrong = await sparkyctl(billing_url, "tenant", "list", token="sop_not-the-operator-token-000")
    assert wrong.code == 1
    assert "401" in wrong.err
    assert "operator token" in wrong.err
    assert "sop_not-the-operator-token-000" not in wrong.out + wrong.err


async def test_an_unreachable_billing_is_said_with_its_address() -> None:
    sock = free_socket()  # bound, never listening: connections are refused
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        result = await sparkyctl(url, "plan", "list")
    finally:
        sock.close()
    assert result.code == 2
    assert f"Cannot reach billing at {url}" in result.err


async def test_an_unknown_plan_is_explained_by_sparkyctl(billing_url: str) -> None:
    created = await sparkyctl(billing_url, "tenant", "create", "Ada")
    result = await sparkyctl(billing_url, "plan", "set", field(created.out, "tenant_id"), "gold")
    assert result.code == 1
    assert "There is no plan 'gold'; the plans are basic, enterprise, free, pro." in result.err


async def test_an_operator_added_with_sparkyctl_acts_with_their_own_token_and_is_audited(
    billing_url: str,
) -> None:
    added = await sparkyctl(billing_url, "operator", "create", "ada")
    assert added.code == 0, added.err
    token = field(added.out, "token")
    assert token.startswith("sop_")

    created = await sparkyctl(billing_url, "tenant", "create", "Ada", token=token)
    listed = await sparkyctl(billing_url, "operator", "list", token=token)
    tenant_id = field(created.out, "tenant_id")
    log = await sparkyctl(
        billing_url, "--json", "audit", "list", "--tenant", tenant_id, token=token
    )
    revoked = await sparkyctl(billing_url, "operator", "revoke", "ada")
    refused = await sparkyctl(billing_url, "tenant", "list", token=token)

    assert (created.code, listed.code, log.code) == (0, 0, 0)
    assert token not in listed.out
    assert [(e["operator"], e["action"]) for e in json.loads(log.out)["entries"]] == [
        ("ada", "create_tenant")
    ]
    assert revoked.code == 0, revoked.err
    assert refused.code == 1
    assert "401" in refused.err

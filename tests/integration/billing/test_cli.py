"""The ``sparky`` command against billing served on a real port."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator

import pytest
from typer.testing import CliRunner, Result

from libs.common.records import TenantStatus, secret_digest
from services.billing import cli
from tests import factories
from tests.helpers.billing import OPERATOR_TOKEN, Billing, Buckets, served
from tests.helpers.polling import eventually


@pytest.fixture
async def billing_url(billing: Billing) -> AsyncIterator[str]:
    async with served(billing.app) as url:  # lifespan already ran in the billing fixture
        yield url


async def sparky(url: str, *args: str, token: str = OPERATOR_TOKEN) -> Result:
    """Run the CLI in a thread while this loop serves billing."""
    env = {"SPARKY_BILLING_URL": url, "SPARKY_OPERATOR_TOKEN": token}
    return await asyncio.to_thread(lambda: CliRunner().invoke(cli.app, list(args), env=env))


def field(output: str, name: str) -> str:
    match = re.search(rf"^{re.escape(name)}:\s+(\S+)", output, re.MULTILINE)
    assert match, f"no {name} in {output!r}"
    return match.group(1)


async def test_a_tenant_created_with_the_cli_has_its_token_in_the_bucket_within_two_seconds(
    billing_url: str, buckets: Buckets
) -> None:
    result = await sparky(billing_url, "tenant", "create", "Ada Lovelace", "--plan", "basic")
    assert result.exit_code == 0, result.output
    url = field(result.output, "webhook_url")
    token = url.rsplit("/", 1)[1]
    assert url == f"https://hooks.sparky.test/webhooks/tv/{token}"
    assert token.startswith("whk_")
    assert field(result.output, "api_key").startswith("spk_")
    await eventually(
        lambda: secret_digest(token) in buckets.tokens, what="the token's record", timeout_s=2.0
    )
    record = buckets.tokens.get(secret_digest(token))
    assert record is not None
    assert record.tenant_id == field(result.output, "tenant_id")


async def test_a_token_revoked_with_the_cli_leaves_the_bucket_within_two_seconds(
    billing_url: str, buckets: Buckets
) -> None:
    created = await sparky(billing_url, "tenant", "create", "Ada")
    tenant_id, webhook_id = field(created.output, "tenant_id"), field(created.output, "webhook_id")
    digest = secret_digest(field(created.output, "webhook_url").rsplit("/", 1)[1])
    await eventually(lambda: digest in buckets.tokens, what="digest in buckets.tokens")
    revoked = await sparky(billing_url, "token", "revoke", tenant_id, webhook_id)
    assert revoked.exit_code == 0, revoked.output
    await eventually(
        lambda: digest not in buckets.tokens, what="digest not in buckets.tokens", timeout_s=2.0
    )


async def test_the_operator_suspends_re_plans_and_rotates_with_the_cli(
    billing_url: str, buckets: Buckets
) -> None:
    created = await sparky(billing_url, "tenant", "create", "Ada")
    tenant_id, webhook_id = field(created.output, "tenant_id"), field(created.output, "webhook_id")
    old = secret_digest(field(created.output, "webhook_url").rsplit("/", 1)[1])

    assert (await sparky(billing_url, "tenant", "suspend", tenant_id)).exit_code == 0
    await eventually(
        lambda: _status(buckets, tenant_id) is TenantStatus.SUSPENDED,
        what="_status(buckets, tenant_id) is TenantStatus.SUSPENDED",
    )

    plan = await sparky(
        billing_url,
        "plan",
        "set",
        tenant_id,
        "pro",
        "--limit",
        "max_alerts_per_hour=5000",
        "--limit",
        "max_leverage=50",
    )
    assert plan.exit_code == 0, plan.output
    assert field(plan.output, "limits.max_alerts_per_hour") == "5000"
    assert field(plan.output, "limits.max_leverage") == "50"
    assert field(plan.output, "limits.max_webhooks") == "unlimited"
    await eventually(
        lambda: _plan(buckets, tenant_id) == "pro", what='_plan(buckets, tenant_id) == "pro"'
    )

    rotated = await sparky(billing_url, "token", "rotate", tenant_id, webhook_id, "--grace", "600")
    assert rotated.exit_code == 0, rotated.output
    new = secret_digest(field(rotated.output, "webhook_url").rsplit("/", 1)[1])
    await eventually(lambda: new in buckets.tokens, what="new in buckets.tokens")
    old_record = buckets.tokens.get(old)
    assert old_record is not None
    assert old_record.expires_at is not None  # both work through the grace period

    listed = await sparky(billing_url, "token", "list", tenant_id)
    assert "(expiring)" in listed.output
    assert "(active)" in listed.output
    assert field(rotated.output, "webhook_url").rsplit("/", 1)[1] not in listed.output


async def test_usage_list_prints_every_tenants_counts(billing: Billing, billing_url: str) -> None:
    tenant_id = (await billing.create_tenant())["tenant"]["tenant_id"]
    accepted = factories.every_event(tenant_id)[0].model_copy(update={"occurred_at": factories.T0})
    assert await billing.app.state.services.usage.record(accepted.to_json())
    result = await sparky(
        billing_url,
        "usage",
        "list",
        "--period",
        "month",
        "--from",
        "2026-01-01",
        "--to",
        "2026-01-31",
    )
    assert result.exit_code == 0, result.output
    header, *rows = result.output.splitlines()
    assert header.split() == ["TENANT", "MONTH", "ACCEPTED", "REJECTED", "PLACED", "FILLED"]
    assert [row.split() for row in rows] == [[tenant_id, "2026-01-01", "1", "0", "0", "0"]]


async def test_the_cli_refuses_to_work_without_the_operator_token(billing_url: str) -> None:
    missing = await sparky(billing_url, "tenant", "list", token="")
    assert missing.exit_code == 2
    assert "SPARKY_OPERATOR_TOKEN" in missing.output
    wrong = await sparky(billing_url, "tenant", "list", token="sop_not-the-operator-token-000")
    assert wrong.exit_code == 1
    assert "401" in wrong.output
    assert "operator token" in wrong.output


async def test_an_unknown_plan_is_explained_by_the_cli(billing_url: str) -> None:
    created = await sparky(billing_url, "tenant", "create", "Ada")
    result = await sparky(billing_url, "plan", "set", field(created.output, "tenant_id"), "gold")
    assert result.exit_code == 1
    assert "There is no plan 'gold'; the plans are basic, enterprise, free, pro." in result.output


def _status(buckets: Buckets, tenant_id: str) -> TenantStatus | None:
    record = buckets.tenants.get(tenant_id)
    return record.status if record else None


def _plan(buckets: Buckets, tenant_id: str) -> str | None:
    record = buckets.tenants.get(tenant_id)
    return record.plan if record else None


async def test_an_operator_added_with_the_cli_acts_with_their_own_token_and_is_audited(
    billing_url: str,
) -> None:
    added = await sparky(billing_url, "operator", "create", "ada")
    assert added.exit_code == 0, added.output
    token = field(added.output, "token")
    assert token.startswith("sop_")

    created = await sparky(billing_url, "tenant", "create", "Ada", token=token)
    listed = await sparky(billing_url, "operator", "list", token=token)
    tenant_id = field(created.output, "tenant_id")
    log = await sparky(billing_url, "--json", "audit", "list", "--tenant", tenant_id, token=token)
    revoked = await sparky(billing_url, "operator", "revoke", "ada")
    refused = await sparky(billing_url, "tenant", "list", token=token)

    assert (created.exit_code, listed.exit_code, log.exit_code) == (0, 0, 0)
    assert token not in listed.output
    assert [(e["operator"], e["action"]) for e in json.loads(log.output)["entries"]] == [
        ("ada", "create_tenant")
    ]
    assert revoked.exit_code == 0, revoked.output
    assert refused.exit_code == 1
    assert "401" in refused.output

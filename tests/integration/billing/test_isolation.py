"""Tenant A's API key can read or change nothing of tenant B's, on every route."""

from __future__ import annotations

from typing import Any

import pytest

from libs.common.ids import new_id, new_intent_id
from libs.common.messages import Action, IntentAccepted
from libs.common.records import secret_digest
from services.billing.api import operator, tenant
from tests import factories
from tests.helpers.billing import OPERATOR, Billing, Buckets
from tests.helpers.polling import eventually

JANUARY = {"from": "2026-01-01", "to": "2026-01-31"}  # factories.T0 is in it


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def count_an_alert(billing: Billing, tenant_id: str) -> None:
    intent = new_intent_id()
    event = IntentAccepted(
        **factories.envelope(tenant_id, intent),
        intent_id=intent,
        webhook_id=new_id(),
        action=Action.BUY,
        symbol="BTCUSDT",
        received_at=factories.T0,
        occurred_at=factories.T0,
    )
    assert await billing.app.state.services.usage.record(event.to_json())


@pytest.fixture
async def two_tenants(billing: Billing) -> tuple[dict[str, Any], dict[str, Any]]:
    a, b = await billing.create_tenant(name="A"), await billing.create_tenant(name="B")
    await count_an_alert(billing, b["tenant"]["tenant_id"])
    return a, b


async def test_a_tenants_key_reaches_nothing_of_another_tenant(
    billing: Billing, buckets: Buckets, two_tenants: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    a, b = two_tenants
    a_key = bearer(a["api_key"]["key"])
    b_hook = b["webhook"]["webhook"]["webhook_id"]
    b_key_id = b["api_key"]["api_key"]["key_id"]
    refused = {
        ("PATCH", "/api/v1/webhooks/{webhook_id}"): (
            "PATCH",
            f"/api/v1/webhooks/{b_hook}",
            {"label": "x"},
        ),
        ("POST", "/api/v1/webhooks/{webhook_id}/rotate"): (
            "POST",
            f"/api/v1/webhooks/{b_hook}/rotate",
            {},
        ),
        ("DELETE", "/api/v1/webhooks/{webhook_id}"): ("DELETE", f"/api/v1/webhooks/{b_hook}", None),
        ("POST", "/api/v1/api-keys/{key_id}/rotate"): (
            "POST",
            f"/api/v1/api-keys/{b_key_id}/rotate",
            {},
        ),
        ("DELETE", "/api/v1/api-keys/{key_id}"): ("DELETE", f"/api/v1/api-keys/{b_key_id}", None),
    }
    for method, path, body in refused.values():
        answer = await billing.http.request(method, path, json=body, headers=a_key)
        assert answer.status_code == 404, (method, path, answer.text)

    own = await _own_only(billing, a_key, a["tenant"]["tenant_id"])
    tested = set(refused) | own
    assert tested == {(m, r.path) for r in tenant.router.routes for m in r.methods}  # type: ignore[attr-defined]

    # B is untouched: its usage is there, its token is still published, its key still works,
    # its label unchanged.
    b_usage = await billing.http.get(
        "/api/v1/usage", params=JANUARY, headers=bearer(b["api_key"]["key"])
    )
    assert [row["alerts_accepted"] for row in b_usage.json()] == [1]
    assert secret_digest(b["webhook"]["token"]) in buckets.tokens
    b_hooks = await billing.http.get("/api/v1/webhooks", headers=bearer(b["api_key"]["key"]))
    assert b_hooks.status_code == 200
    assert [h["label"] for h in b_hooks.json()] == ["default"]
    assert [t["state"] for t in b_hooks.json()[0]["tokens"]] == ["active"]


async def _own_only(billing: Billing, key: dict[str, str], tenant_id: str) -> set[tuple[str, str]]:
    """Call the routes without an id; each answers about the caller only."""
    account = await billing.http.get("/api/v1/account", headers=key)
    assert account.json()["tenant_id"] == tenant_id
    hooks = await billing.http.get("/api/v1/webhooks", headers=key)
    assert [h["label"] for h in hooks.json()] == ["default"]
    keys = await billing.http.get("/api/v1/api-keys", headers=key)
    assert len(keys.json()) == 1
    usage = await billing.http.get("/api/v1/usage", params=JANUARY, headers=key)
    assert usage.status_code == 200
    assert usage.json() == []  # B's alert is not A's
    new_hook = await billing.http.post("/api/v1/webhooks", json={"label": "mine"}, headers=key)
    assert new_hook.json()["webhook"]["label"] == "mine"
    new_key = await billing.http.post("/api/v1/api-keys", json={"label": "ci"}, headers=key)
    assert new_key.status_code == 201
    checkout = await billing.http.post(
        "/api/v1/billing/checkout", json={"plan": "pro"}, headers=key
    )
    portal = await billing.http.post("/api/v1/billing/portal", headers=key)
    assert checkout.status_code == portal.status_code == 503  # Stripe is not configured here
    return {
        ("GET", "/api/v1/account"),
        ("GET", "/api/v1/webhooks"),
        ("POST", "/api/v1/webhooks"),
        ("GET", "/api/v1/api-keys"),
        ("POST", "/api/v1/api-keys"),
        ("GET", "/api/v1/usage"),
        ("POST", "/api/v1/billing/checkout"),
        ("POST", "/api/v1/billing/portal"),
    }


async def test_a_tenants_key_opens_no_operator_route(
    billing: Billing, two_tenants: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    a, b = two_tenants
    b_id = b["tenant"]["tenant_id"]
    for route in operator.router.routes:
        for method in route.methods:  # type: ignore[attr-defined]
            path = route.path.format(  # type: ignore[attr-defined]
                tenant_id=b_id, webhook_id=new_id(), key_id=new_id()
            )
            answer = await billing.http.request(
                method, path, json={}, headers=bearer(a["api_key"]["key"])
            )
            assert answer.status_code == 401, (method, path)
    record = (await billing.http.get("/api/v1/account", headers=bearer(b["api_key"]["key"]))).json()
    assert record["status"] == "active"


async def test_without_a_key_the_tenant_routes_answer_401(billing: Billing) -> None:
    for route in tenant.router.routes:
        for method in route.methods:  # type: ignore[attr-defined]
            path = route.path.format(webhook_id=new_id(), key_id=new_id())  # type: ignore[attr-defined]
            answer = await billing.http.request(method, path, json={})
            assert answer.status_code == 401, (method, path)


async def test_a_suspended_tenants_key_is_refused_with_403_within_two_seconds(
    billing: Billing,
) -> None:
    created = await billing.create_tenant()
    key = bearer(created["api_key"]["key"])
    tenant_id = created["tenant"]["tenant_id"]
    await billing.http.post(f"/api/v1/tenants/{tenant_id}/suspend", headers=OPERATOR)

    async def refused() -> bool:
        answer = await billing.http.get("/api/v1/webhooks", headers=key)
        return answer.status_code == 403 and "suspended" in answer.text

    await eventually(refused, what="the suspended key refused", timeout_s=2.0)

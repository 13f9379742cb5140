"""The web app's sign-up: a free tenant, its first webhook and a ``web`` key, for the sign-up
credential only; the same reference sent again finds the same tenant.
"""

from __future__ import annotations

from typing import Any

from libs.common.records import secret_digest
from services.billing.config import DEV_SIGNUP_TOKEN
from tests.helpers.billing import OPERATOR, OPERATOR_TOKEN, Billing, Buckets
from tests.helpers.polling import eventually

SIGNUP = {"Authorization": f"Bearer {DEV_SIGNUP_TOKEN}"}
TRADER = {"name": "Grace", "email": "grace@example.com"}


async def _sign_up(billing: Billing, **extra: Any) -> dict[str, Any]:
    answer = await billing.http.post("/api/v1/signups", json={**TRADER, **extra}, headers=SIGNUP)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


async def test_sign_up_creates_a_free_tenant_with_a_webhook_and_a_web_key(
    billing: Billing, buckets: Buckets
) -> None:
    created = await _sign_up(billing)
    tenant_id, token = created["tenant_id"], created["webhook"]["token"]
    assert created["api_key"].startswith("spk_")
    assert created["webhook"]["url"] == f"https://hooks.sparky.test/webhooks/tv/{token}"
    await billing.wait_until_key_works(created["api_key"])
    await eventually(
        lambda: secret_digest(token) in buckets.tokens,
        what="secret_digest(token) in buckets.tokens",
    )
    tenant = await billing.http.get(f"/api/v1/tenants/{tenant_id}", headers=OPERATOR)
    assert tenant.json()["plan"] == "free"
    keys = await billing.http.get(
        "/api/v1/api-keys", headers={"Authorization": f"Bearer {created['api_key']}"}
    )
    assert [k["label"] for k in keys.json()] == ["web"]
    hooks = await billing.http.get(
        "/api/v1/webhooks", headers={"Authorization": f"Bearer {created['api_key']}"}
    )
    assert [h["webhook_id"] for h in hooks.json()] == [created["webhook"]["id"]]


async def test_only_the_sign_up_credential_opens_the_route(billing: Billing) -> None:
    tenant_key = (await billing.create_tenant())["api_key"]["key"]
    for header in (
        {},
        {"Authorization": f"Bearer {OPERATOR_TOKEN}"},
        {"Authorization": f"Bearer {tenant_key}"},
        {"Authorization": "Bearer ssu_not-the-configured-signup-token"},
    ):
        answer = await billing.http.post("/api/v1/signups", json=TRADER, headers=header)
        assert answer.status_code == 401, header
        assert "sign-up credential" in answer.json()["error"]


async def test_the_sign_up_credential_opens_no_operator_route(billing: Billing) -> None:
    answer = await billing.http.get("/api/v1/tenants", headers=SIGNUP)
    assert answer.status_code == 401


async def test_a_bad_email_is_refused_in_words(billing: Billing) -> None:
    answer = await billing.http.post(
        "/api/v1/signups", json={"name": "Grace", "email": "not-an-email"}, headers=SIGNUP
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"].endswith("email")


async def test_a_retried_sign_up_finds_its_tenant_and_ends_the_unseen_secrets(
    billing: Billing, buckets: Buckets
) -> None:
    first = await _sign_up(billing, signup_ref="user-123")
    await billing.wait_until_key_works(first["api_key"])
    again = await _sign_up(billing, signup_ref="user-123")
    assert again["tenant_id"] == first["tenant_id"]
    assert again["webhook"]["id"] == first["webhook"]["id"]
    assert again["api_key"] != first["api_key"]
    assert again["webhook"]["token"] != first["webhook"]["token"]
    await billing.wait_until_key_works(again["api_key"])
    old_key = await billing.http.get(
        "/api/v1/webhooks", headers={"Authorization": f"Bearer {first['api_key']}"}
    )
    assert old_key.status_code == 401
    old_token = secret_digest(first["webhook"]["token"])
    await eventually(
        lambda: old_token not in buckets.tokens, what="old_token not in buckets.tokens"
    )
    other = await _sign_up(billing, signup_ref="user-456")
    assert other["tenant_id"] != first["tenant_id"]

"""A tenant's webhooks: one per strategy, within the plan, with an IP allowlist."""

from __future__ import annotations

from typing import Any

from libs.common.passphrases import parse_stored, verify_passphrase
from libs.common.records import secret_digest
from tests.helpers.billing import Billing, Buckets
from tests.helpers.polling import eventually


def bearer(created: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {created['api_key']['key']}"}


async def test_the_free_plan_allows_three_webhooks_and_the_fourth_is_refused_in_words(
    billing: Billing,
) -> None:
    created = await billing.create_tenant()  # free, with a first webhook
    key = bearer(created)
    for label in ("ema", "rsi"):
        answer = await billing.http.post("/api/v1/webhooks", json={"label": label}, headers=key)
        assert answer.status_code == 201
    fourth = await billing.http.post("/api/v1/webhooks", json={"label": "macd"}, headers=key)
    assert fourth.status_code == 403
    assert fourth.json()["error"].startswith("Your plan allows 3 webhooks")


async def test_a_bad_allowlist_entry_is_explained(billing: Billing) -> None:
    key = bearer(await billing.create_tenant())
    host_bits = await billing.http.post(
        "/api/v1/webhooks", json={"label": "a", "allowed_ips": ["10.0.0.1/24"]}, headers=key
    )
    assert host_bits.status_code == 422
    assert "did you mean 10.0.0.0/24?" in host_bits.text
    garbage = await billing.http.post(
        "/api/v1/webhooks", json={"label": "a", "allowed_ips": ["my office"]}, headers=key
    )
    assert garbage.status_code == 422
    assert "'my office' is not an IP address or network" in garbage.text


async def test_the_allowlist_and_passphrase_reach_the_bucket(
    billing: Billing, buckets: Buckets
) -> None:
    created = await billing.create_tenant(
        webhook={"label": "ema", "allowed_ips": ["TradingView", "52.89.214.238"]}
    )
    digest = secret_digest(created["webhook"]["token"])
    await eventually(lambda: digest in buckets.tokens, what="digest in buckets.tokens")
    record = buckets.tokens.get(digest)
    assert record is not None
    assert record.allowed_ips == ("tradingview", "52.89.214.238/32")
    assert record.label == "ema"

    webhook_id = created["webhook"]["webhook"]["webhook_id"]
    change = {"allowed_ips": ["2001:db8::/32"], "passphrase": "correct horse"}
    changed = await billing.http.patch(
        f"/api/v1/webhooks/{webhook_id}", json=change, headers=bearer(created)
    )
    assert changed.json()["has_passphrase"] is True
    await eventually(
        lambda: _allowed(buckets, digest) == ("2001:db8::/32",),
        what='_allowed(buckets, digest) == ("2001:db8::/32",)',
    )
    record = buckets.tokens.get(digest)
    assert record is not None
    assert record.passphrase_hash is not None
    assert record.passphrase_sha256 is None
    assert parse_stored(record.passphrase_hash).scheme == "scrypt"  # salted, slow, never SHA-256
    assert verify_passphrase("correct horse", record.passphrase_hash)
    assert not verify_passphrase("correct horse ", record.passphrase_hash)


def _allowed(buckets: Buckets, digest: str) -> tuple[str, ...] | None:
    record = buckets.tokens.get(digest)
    return record.allowed_ips if record else None


async def test_two_live_webhooks_cannot_share_a_label(billing: Billing) -> None:
    key = bearer(await billing.create_tenant())
    twin = await billing.http.post("/api/v1/webhooks", json={"label": "default"}, headers=key)
    assert twin.status_code == 409
    assert "already a webhook labelled 'default'" in twin.json()["error"]


async def test_a_revoked_webhook_leaves_the_bucket_and_frees_its_label(
    billing: Billing, buckets: Buckets
) -> None:
    created = await billing.create_tenant()
    webhook_id = created["webhook"]["webhook"]["webhook_id"]
    digest = secret_digest(created["webhook"]["token"])
    await eventually(lambda: digest in buckets.tokens, what="digest in buckets.tokens")
    revoked = await billing.http.delete(f"/api/v1/webhooks/{webhook_id}", headers=bearer(created))
    assert revoked.status_code == 204
    await eventually(
        lambda: digest not in buckets.tokens, what="digest not in buckets.tokens", timeout_s=2.0
    )
    again = await billing.http.delete(f"/api/v1/webhooks/{webhook_id}", headers=bearer(created))
    assert again.status_code == 404
    reused = await billing.http.post(
        "/api/v1/webhooks", json={"label": "default"}, headers=bearer(created)
    )
    assert reused.status_code == 201


async def test_rotating_without_grace_stops_the_old_token_at_once(
    billing: Billing, buckets: Buckets
) -> None:
    created = await billing.create_tenant()
    webhook_id = created["webhook"]["webhook"]["webhook_id"]
    old = secret_digest(created["webhook"]["token"])
    rotated = await billing.http.post(  # no body: no grace
        f"/api/v1/webhooks/{webhook_id}/rotate", headers=bearer(created)
    )
    assert rotated.status_code == 201
    new = secret_digest(rotated.json()["token"])
    assert rotated.json()["webhook"]["webhook_id"] == webhook_id  # the URL changes, not the id
    await eventually(
        lambda: new in buckets.tokens and old not in buckets.tokens,
        what="new in buckets.tokens and old not in buckets.tokens",
    )


async def test_listings_show_no_more_than_the_first_eight_characters(billing: Billing) -> None:
    created = await billing.create_tenant()
    token, key = created["webhook"]["token"], created["api_key"]["key"]
    hooks = await billing.http.get("/api/v1/webhooks", headers=bearer(created))
    keys = await billing.http.get("/api/v1/api-keys", headers=bearer(created))
    assert hooks.json()[0]["tokens"][0]["prefix"] == token[:8]
    assert keys.json()[0]["prefix"] == key[:8]
    for secret in (token, key):
        assert secret[8:16] not in hooks.text + keys.text

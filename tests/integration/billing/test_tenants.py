"""The operator creates, suspends, re-plans and deletes tenants; the buckets follow."""

from __future__ import annotations

from libs.common.records import TenantStatus, secret_digest
from tests.helpers.billing import OPERATOR, Billing, Buckets
from tests.helpers.polling import eventually


async def test_a_new_tenant_is_in_every_bucket_within_two_seconds(
    billing: Billing, buckets: Buckets
) -> None:
    created = await billing.create_tenant(plan="basic")
    tenant_id = created["tenant"]["tenant_id"]
    token = created["webhook"]["token"]
    assert created["webhook"]["url"] == f"https://hooks.sparky.test/webhooks/tv/{token}"
    await eventually(
        lambda: secret_digest(token) in buckets.tokens,
        what="secret_digest(token) in buckets.tokens",
    )
    await eventually(lambda: tenant_id in buckets.tenants, what="tenant_id in buckets.tenants")
    await eventually(
        lambda: secret_digest(created["api_key"]["key"]) in buckets.api_keys,
        what='secret_digest(created["api_key"]["key"]) in buckets.api_keys',
    )
    record = buckets.tenants.get(tenant_id)
    assert record is not None
    assert record.plan == "basic"
    assert record.limits.max_webhooks == 10
    assert record.status is TenantStatus.ACTIVE


async def test_suspending_a_tenant_reaches_the_bucket_and_resuming_undoes_it(
    billing: Billing, buckets: Buckets
) -> None:
    tenant_id = (await billing.create_tenant())["tenant"]["tenant_id"]
    answer = await billing.http.post(f"/api/v1/tenants/{tenant_id}/suspend", headers=OPERATOR)
    assert answer.json()["status"] == "suspended"

    def status() -> TenantStatus | None:
        record = buckets.tenants.get(tenant_id)
        return record.status if record else None

    await eventually(
        lambda: status() is TenantStatus.SUSPENDED, what="status() is TenantStatus.SUSPENDED"
    )
    await billing.http.post(f"/api/v1/tenants/{tenant_id}/resume", headers=OPERATOR)
    await eventually(
        lambda: status() is TenantStatus.ACTIVE, what="status() is TenantStatus.ACTIVE"
    )


async def test_deleting_a_tenant_removes_its_record_tokens_and_keys(
    billing: Billing, buckets: Buckets
) -> None:
    created = await billing.create_tenant()
    tenant_id = created["tenant"]["tenant_id"]
    token, key = (
        secret_digest(created["webhook"]["token"]),
        secret_digest(created["api_key"]["key"]),
    )
    await eventually(
        lambda: token in buckets.tokens and key in buckets.api_keys,
        what="token in buckets.tokens and key in buckets.api_keys",
    )
    deleted = await billing.http.delete(f"/api/v1/tenants/{tenant_id}", headers=OPERATOR)
    assert deleted.status_code == 204
    await eventually(
        lambda: (
            tenant_id not in buckets.tenants
            and token not in buckets.tokens
            and key not in buckets.api_keys
        ),
        what="the tenant, its token and its key gone from the buckets",
    )
    shown = await billing.http.get(f"/api/v1/tenants/{tenant_id}", headers=OPERATOR)
    assert shown.json()["status"] == "deleted"
    resumed = await billing.http.post(f"/api/v1/tenants/{tenant_id}/resume", headers=OPERATOR)
    assert resumed.status_code == 409
    assert "was deleted" in resumed.json()["error"]


async def test_limit_overrides_apply_on_top_of_the_plan(billing: Billing, buckets: Buckets) -> None:
    tenant_id = (await billing.create_tenant())["tenant"]["tenant_id"]
    change = {"plan": "basic", "overrides": {"max_webhooks": None, "max_alerts_per_hour": 5}}
    answer = await billing.http.put(
        f"/api/v1/tenants/{tenant_id}/plan", json=change, headers=OPERATOR
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["overrides"] == {"max_webhooks": None, "max_alerts_per_hour": 5}

    def limits() -> tuple[object, ...] | None:
        record = buckets.tenants.get(tenant_id)
        if record is None or record.plan != "basic":
            return None
        lim = record.limits
        return (lim.live_trading, lim.max_webhooks, lim.max_alerts_per_hour, lim.max_orders_per_day)

    await eventually(
        lambda: limits() == (True, None, 5, 500), what="limits() == (True, None, 5, 500)"
    )


async def test_an_unknown_plan_or_limit_is_refused_in_words(billing: Billing) -> None:
    tenant_id = (await billing.create_tenant())["tenant"]["tenant_id"]
    path = f"/api/v1/tenants/{tenant_id}/plan"
    gold = await billing.http.put(path, json={"plan": "gold"}, headers=OPERATOR)
    assert gold.status_code == 422
    assert (
        gold.json()["error"]
        == "There is no plan 'gold'; the plans are basic, enterprise, free, pro."
    )
    typo = await billing.http.put(
        path, json={"plan": "pro", "overrides": {"max_webhook": 3}}, headers=OPERATOR
    )
    assert typo.status_code == 422
    assert "max_webhook" in typo.text
    unknown = await billing.http.post(
        "/api/v1/tenants/01J0000000000000000000000Z/suspend", headers=OPERATOR
    )
    assert unknown.status_code == 404


async def test_tenants_are_listed_a_page_at_a_time(billing: Billing) -> None:
    ids = sorted([(await billing.create_tenant())["tenant"]["tenant_id"] for _ in range(3)])
    first = (
        await billing.http.get("/api/v1/tenants", params={"limit": 2}, headers=OPERATOR)
    ).json()
    assert [t["tenant_id"] for t in first["tenants"]] == ids[:2]
    rest = await billing.http.get(
        "/api/v1/tenants", params={"limit": 2, "after": first["next_after"]}, headers=OPERATOR
    )
    assert [t["tenant_id"] for t in rest.json()["tenants"]] == ids[2:]
    assert rest.json()["next_after"] is None


async def test_plans_cap_leverage_and_the_tenants_record_carries_the_cap(
    billing: Billing, buckets: Buckets
) -> None:
    plans = (await billing.http.get("/api/v1/plans", headers=OPERATOR)).json()
    caps = {plan["name"]: plan["limits"]["max_leverage"] for plan in plans}
    assert caps == {"free": 5, "basic": 10, "pro": 20, "enterprise": 125}
    tenant_id = (await billing.create_tenant(plan="pro"))["tenant"]["tenant_id"]
    await eventually(lambda: tenant_id in buckets.tenants, what="tenant_id in buckets.tenants")
    record = buckets.tenants.get(tenant_id)
    assert record is not None
    assert record.limits.max_leverage == 20
    contract = {"plan": "pro", "overrides": {"max_leverage": 50}}
    answer = await billing.http.put(
        f"/api/v1/tenants/{tenant_id}/plan", json=contract, headers=OPERATOR
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["limits"]["max_leverage"] == 50

    def cap() -> int | None:
        found = buckets.tenants.get(tenant_id)
        return found.limits.max_leverage if found else None

    await eventually(lambda: cap() == 50, what="cap() == 50")

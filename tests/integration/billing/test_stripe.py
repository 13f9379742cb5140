"""Stripe's webhooks: verified with the official library, applied once, grace then free."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from pydantic import SecretStr

from services.billing.config import BillingSettings
from tests.helpers.billing import (
    OPERATOR,
    Billing,
    Buckets,
    Clock,
    FakeStripe,
    served,
    signature,
    stripe_event,
)
from tests.helpers.namespaces import PgSchema
from tests.helpers.polling import eventually

WEBHOOK = "/billing/stripe/webhook"


def subscription(
    tenant_id: str, status: str = "active", price: str = "price_pro_m"
) -> dict[str, Any]:
    return {
        "id": "sub_1",
        "object": "subscription",
        "customer": "cus_1",
        "status": status,
        "metadata": {"tenant_id": tenant_id},
        "items": {"object": "list", "data": [{"id": "si_1", "price": {"id": price}}]},
    }


def invoice(customer: str = "cus_1") -> dict[str, Any]:
    return {"id": "in_1", "object": "invoice", "customer": customer, "subscription": "sub_1"}


async def deliver(billing: Billing, payload: bytes, sig: str | None = None) -> Any:
    headers = {"Stripe-Signature": sig if sig is not None else signature(payload)}
    return await billing.http.post(WEBHOOK, content=payload, headers=headers)


async def tenant_on_pro(billing: Billing, buckets: Buckets) -> str:
    tenant_id: str = (await billing.create_tenant())["tenant"]["tenant_id"]
    answer = await deliver(
        billing, stripe_event("customer.subscription.created", subscription(tenant_id))
    )
    assert answer.status_code == 200, answer.text
    await eventually(
        lambda: _plan(buckets, tenant_id) == "pro", what='_plan(buckets, tenant_id) == "pro"'
    )
    return tenant_id


def _plan(buckets: Buckets, tenant_id: str) -> str | None:
    record = buckets.tenants.get(tenant_id)
    return record.plan if record else None


async def test_an_event_delivered_three_times_is_applied_once(
    billing: Billing, buckets: Buckets, pg_schema: PgSchema
) -> None:
    tenant_id = (await billing.create_tenant())["tenant"]["tenant_id"]
    payload = stripe_event("customer.subscription.created", subscription(tenant_id))
    first = await deliver(billing, payload)
    assert first.json()["duplicate"] is False
    await eventually(
        lambda: _plan(buckets, tenant_id) == "pro", what='_plan(buckets, tenant_id) == "pro"'
    )
    # The operator moves the tenant; Stripe's redeliveries must not move it back.
    moved = await billing.http.put(
        f"/api/v1/tenants/{tenant_id}/plan", json={"plan": "basic"}, headers=OPERATOR
    )
    assert moved.status_code == 200
    again = [await deliver(billing, payload) for _ in range(2)]
    assert [a.json()["duplicate"] for a in again] == [True, True]
    assert (await billing.http.get(f"/api/v1/tenants/{tenant_id}", headers=OPERATOR)).json()[
        "plan"
    ] == "basic"
    conn = await asyncpg.connect(pg_schema.url)
    try:
        rows = await conn.fetchval(f'SELECT count(*) FROM "{pg_schema.name}".stripe_events')
    finally:
        await conn.close()
    assert rows == 1


async def test_concurrent_deliveries_of_one_event_apply_it_once(
    billing: Billing, buckets: Buckets
) -> None:
    tenant_id = await tenant_on_pro(billing, buckets)
    payload = stripe_event("invoice.payment_failed", invoice())
    answers = await asyncio.gather(*(deliver(billing, payload) for _ in range(3)))
    assert sorted(a.json()["duplicate"] for a in answers) == [False, True, True]
    tenant = (await billing.http.get(f"/api/v1/tenants/{tenant_id}", headers=OPERATOR)).json()
    assert tenant["payment_state"] == "grace"


async def test_an_event_signed_with_another_secret_is_refused(
    billing: Billing, buckets: Buckets
) -> None:
    tenant_id = (await billing.create_tenant())["tenant"]["tenant_id"]
    payload = stripe_event("customer.subscription.created", subscription(tenant_id))
    answer = await deliver(billing, payload, signature(payload, "whsec_someone_else"))
    assert answer.status_code == 400
    assert "does not match" in answer.json()["error"]
    missing = await billing.http.post(WEBHOOK, content=payload)
    assert missing.status_code == 400
    tenant = (await billing.http.get(f"/api/v1/tenants/{tenant_id}", headers=OPERATOR)).json()
    assert tenant["plan"] == "free"


async def test_an_old_event_is_refused_so_it_cannot_be_replayed(billing: Billing) -> None:
    tenant_id = (await billing.create_tenant())["tenant"]["tenant_id"]
    payload = stripe_event("customer.subscription.created", subscription(tenant_id))
    answer = await deliver(billing, payload, signature(payload, age_s=301))
    assert answer.status_code == 400
    assert "signed more than 300 s ago" in answer.json()["error"]


async def test_a_failed_payment_keeps_the_plan_through_grace_then_falls_to_free_limits(
    billing: Billing, buckets: Buckets, clock: Clock
) -> None:
    tenant_id = await tenant_on_pro(billing, buckets)
    failed = await deliver(billing, stripe_event("invoice.payment_failed", invoice()))
    assert failed.json()["outcome"] == "payment failed: grace period"

    clock.advance(timedelta(days=3) - timedelta(minutes=1))  # grace is 3 days
    assert await billing.jobs.lapse_expired_grace() == []
    record = buckets.tenants.get(tenant_id)
    assert record is not None
    assert record.limits.max_webhooks is None  # still pro

    clock.advance(timedelta(minutes=2))
    assert await billing.jobs.lapse_expired_grace() == [tenant_id]
    await eventually(
        lambda: _plan(buckets, tenant_id) == "free", what='_plan(buckets, tenant_id) == "free"'
    )
    record = buckets.tenants.get(tenant_id)
    assert record is not None
    assert record.limits.live_trading is False
    assert record.limits.max_webhooks == 3
    view = (await billing.http.get(f"/api/v1/tenants/{tenant_id}", headers=OPERATOR)).json()
    assert (view["plan"], view["plan_in_force"], view["status"]) == ("pro", "free", "active")

    await deliver(billing, stripe_event("invoice.paid", invoice()))
    await eventually(
        lambda: _plan(buckets, tenant_id) == "pro", what='_plan(buckets, tenant_id) == "pro"'
    )


async def test_a_canceled_subscription_moves_the_tenant_to_the_free_plan(
    billing: Billing, buckets: Buckets
) -> None:
    tenant_id = await tenant_on_pro(billing, buckets)
    deleted = subscription(tenant_id, status="canceled")
    await deliver(billing, stripe_event("customer.subscription.deleted", deleted))
    await eventually(
        lambda: _plan(buckets, tenant_id) == "free", what='_plan(buckets, tenant_id) == "free"'
    )


async def test_an_event_older_than_the_last_applied_changes_nothing(
    billing: Billing, buckets: Buckets
) -> None:
    tenant_id = await tenant_on_pro(billing, buckets)
    earlier = datetime.now(UTC) - timedelta(minutes=5)
    late = stripe_event(
        "customer.subscription.updated",
        subscription(tenant_id, price="price_basic_m"),
        created=earlier,
    )
    answer = await deliver(billing, late)
    assert answer.json()["outcome"].startswith("stale")
    assert _plan(buckets, tenant_id) == "pro"


async def test_an_event_for_an_unknown_customer_is_acknowledged_and_ignored(
    billing: Billing,
) -> None:
    answer = await deliver(billing, stripe_event("invoice.paid", invoice(customer="cus_nobody")))
    assert answer.status_code == 200
    assert answer.json()["outcome"] == "ignored: no such tenant"


def checkout_session(tenant_id: str, payment_status: str) -> dict[str, Any]:
    return {
        "id": "cs_test_7",
        "object": "checkout.session",
        "customer": "cus_7",
        "subscription": "sub_7",
        "client_reference_id": tenant_id,
        "payment_status": payment_status,
        "metadata": {"tenant_id": tenant_id, "plan": "pro"},
    }


async def _outcomes(pg_schema: PgSchema, tenant_id: str) -> list[tuple[str, str]]:
    conn = await asyncpg.connect(pg_schema.url)
    try:
        rows = await conn.fetch(
            f'SELECT type, outcome FROM "{pg_schema.name}".stripe_events '
            "WHERE tenant_id = $1 ORDER BY created_at, received_at",
            tenant_id,
        )
    finally:
        await conn.close()
    return [(r["type"], r["outcome"]) for r in rows]


async def _tenant(billing: Billing, tenant_id: str) -> dict[str, Any]:
    answer = await billing.http.get(f"/api/v1/tenants/{tenant_id}", headers=OPERATOR)
    tenant: dict[str, Any] = answer.json()
    return tenant


async def test_an_unpaid_checkout_gives_the_plan_only_when_its_payment_succeeds(
    billing: Billing, buckets: Buckets, pg_schema: PgSchema
) -> None:
    tenant_id = (await billing.create_tenant())["tenant"]["tenant_id"]
    started = datetime.now(UTC) - timedelta(minutes=1)
    unpaid = checkout_session(tenant_id, "unpaid")
    completed = stripe_event("checkout.session.completed", unpaid, created=started)
    answer = await deliver(billing, completed)
    assert answer.json()["outcome"] == (
        "checkout completed, payment unpaid: plan pro waits for the payment"
    )
    waiting = await _tenant(billing, tenant_id)
    assert (waiting["plan"], _plan(buckets, tenant_id)) == ("free", "free")

    paid = checkout_session(tenant_id, "paid")
    await deliver(billing, stripe_event("checkout.session.async_payment_succeeded", paid))
    await eventually(
        lambda: _plan(buckets, tenant_id) == "pro", what='_plan(buckets, tenant_id) == "pro"'
    )
    assert (await _tenant(billing, tenant_id))["payment_state"] == "ok"
    assert await _outcomes(pg_schema, tenant_id) == [
        ("checkout.session.completed", answer.json()["outcome"]),
        ("checkout.session.async_payment_succeeded", "checkout paid: plan pro"),
    ]


async def test_a_failed_async_checkout_payment_leaves_the_tenant_as_it_was(
    billing: Billing, buckets: Buckets, pg_schema: PgSchema, caplog: pytest.LogCaptureFixture
) -> None:
    tenant_id = (await billing.create_tenant())["tenant"]["tenant_id"]
    started = datetime.now(UTC) - timedelta(minutes=1)
    unpaid = checkout_session(tenant_id, "unpaid")
    await deliver(billing, stripe_event("checkout.session.completed", unpaid, created=started))
    before = await _tenant(billing, tenant_id)

    failed = stripe_event("checkout.session.async_payment_failed", unpaid)
    answer = await deliver(billing, failed)
    note = "checkout payment failed: plan pro not given; tenant unchanged"
    assert (answer.status_code, answer.json()["outcome"]) == (200, note)
    assert await _tenant(billing, tenant_id) == before
    assert (before["plan"], _plan(buckets, tenant_id)) == ("free", "free")
    assert (await _outcomes(pg_schema, tenant_id))[-1] == (
        "checkout.session.async_payment_failed",
        note,
    )
    payments = [r for r in caplog.records if r.name == "services.billing.payments"]
    warned = [r for r in payments if r.levelname == "WARNING"]
    assert [getattr(r, "tenant_id", None) for r in warned] == [tenant_id]
    assert "payment failed" in warned[0].getMessage()


@pytest.fixture
async def fake_stripe() -> AsyncIterator[tuple[FakeStripe, str]]:
    fake = FakeStripe()
    async with served(fake.app()) as url:
        yield fake, url


@pytest.fixture
def billing_settings(
    billing_settings: BillingSettings, fake_stripe: tuple[FakeStripe, str]
) -> BillingSettings:
    return billing_settings.model_copy(
        update={"stripe_api_key": SecretStr("sk_test_fake_key"), "stripe_api_base": fake_stripe[1]}
    )


# The stripe library's httpx client posts with `data=`, which httpx deprecates; not ours to fix.
@pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")
async def test_checkout_and_portal_go_through_the_configured_stripe_address(
    billing: Billing, fake_stripe: tuple[FakeStripe, str]
) -> None:
    fake, _ = fake_stripe
    created = await billing.create_tenant()
    tenant_id = created["tenant"]["tenant_id"]
    key = {"Authorization": f"Bearer {created['api_key']['key']}"}
    no_customer = await billing.http.post("/api/v1/billing/portal", headers=key)
    assert no_customer.status_code == 409
    assert "subscribe" in no_customer.json()["error"]

    checkout = await billing.http.post(
        "/api/v1/billing/checkout", json={"plan": "pro"}, headers=key
    )
    assert checkout.json() == {"url": "https://checkout.stripe.test/c/cs_test_1"}
    call = fake.calls[-1]
    assert (call.method, call.path) == ("POST", "/v1/checkout/sessions")
    assert call.authorization == "Bearer sk_test_fake_key"
    assert call.form["mode"] == ["subscription"]
    assert call.form["line_items[0][price]"] == ["price_pro_m"]
    assert call.form["client_reference_id"] == [tenant_id]
    assert call.form["subscription_data[metadata][tenant_id]"] == [tenant_id]

    completed = {
        "id": "cs_test_1",
        "object": "checkout.session",
        "customer": "cus_42",
        "subscription": "sub_42",
        "client_reference_id": tenant_id,
        "payment_status": "paid",
        "metadata": {"tenant_id": tenant_id, "plan": "pro"},
    }
    await deliver(billing, stripe_event("checkout.session.completed", completed))
    portal = await billing.http.post("/api/v1/billing/portal", headers=key)
    assert portal.json() == {"url": "https://billing.stripe.test/p/bps_1"}
    assert fake.calls[-1].path == "/v1/billing_portal/sessions"
    assert fake.calls[-1].form["customer"] == ["cus_42"]

    not_for_sale = await billing.http.post(
        "/api/v1/billing/checkout", json={"plan": "enterprise"}, headers=key
    )
    assert not_for_sale.status_code == 422
    assert "cannot be bought online" in not_for_sale.json()["error"]

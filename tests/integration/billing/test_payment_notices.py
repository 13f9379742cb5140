"""A failed payment is announced on EVENTS (``billing.payment_failed``) when Stripe reports it,
and the end of its grace period (``billing.grace_ending``) once, about a day before; a notice
that could not be published stays owed and is published later, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import nats

from libs.common.messages import GraceEnding, PaymentFailed
from libs.common.topology import Topology
from services.billing.config import BillingSettings
from tests.helpers.billing import OPERATOR, Billing, Buckets, Clock, stripe_event
from tests.helpers.executor import stored_events
from tests.helpers.polling import eventually
from tests.helpers.ports import PrivateNats
from tests.integration.billing.test_stripe import deliver, invoice, subscription, tenant_on_pro

Notice = PaymentFailed | GraceEnding


async def notices_on(url: str, topology: Topology, tenant_id: str) -> list[Notice]:
    """Return the billing notices the EVENTS stream of the server at ``url`` holds."""
    nc = await nats.connect(url)
    try:
        events = await stored_events(nc.jetstream(), topology, tenant_id)
    finally:
        await nc.close()
    return [e for e in events if isinstance(e, PaymentFailed | GraceEnding)]


async def _grace_end(billing: Billing, tenant_id: str) -> datetime:
    view = (await billing.http.get(f"/api/v1/tenants/{tenant_id}", headers=OPERATOR)).json()
    return datetime.fromisoformat(view["grace_ends_at"])


async def _fail(billing: Billing, created: datetime | None = None) -> None:
    failed = await deliver(
        billing, stripe_event("invoice.payment_failed", invoice(), created=created)
    )
    assert failed.status_code == 200, failed.text


async def test_a_failed_payment_is_announced_once_with_the_plan_and_the_end_of_grace(
    billing: Billing, buckets: Buckets, billing_settings: BillingSettings, topology: Topology
) -> None:
    tenant_id = await tenant_on_pro(billing, buckets)
    await _fail(billing)
    await _fail(billing)  # Stripe's retry fails too: the same grace period, no second notice
    (notice,) = await notices_on(billing_settings.nats_url, topology, tenant_id)
    assert isinstance(notice, PaymentFailed)
    assert (notice.tenant_id, notice.plan) == (tenant_id, "pro")
    assert notice.grace_ends_at == await _grace_end(billing, tenant_id)
    assert await billing.jobs.announce_payment_notices() == 0  # nothing owed, nothing due


async def test_the_end_of_grace_is_announced_once_a_day_before(
    billing: Billing,
    buckets: Buckets,
    billing_settings: BillingSettings,
    topology: Topology,
    clock: Clock,
) -> None:
    tenant_id = await tenant_on_pro(billing, buckets)
    await _fail(billing)
    ends = await _grace_end(billing, tenant_id)
    clock.advance(ends - timedelta(hours=24, minutes=1) - clock())  # grace is 3 days
    assert await billing.jobs.announce_payment_notices() == 0
    clock.advance(timedelta(minutes=2))
    assert await billing.jobs.announce_payment_notices() == 1
    assert await billing.jobs.announce_payment_notices() == 0
    clock.advance(timedelta(hours=12))
    assert await billing.jobs.announce_payment_notices() == 0
    notices = await notices_on(billing_settings.nats_url, topology, tenant_id)
    assert [type(n) for n in notices] == [PaymentFailed, GraceEnding]
    assert (notices[1].plan, notices[1].grace_ends_at) == ("pro", ends)


async def test_a_new_failure_after_a_paid_invoice_is_a_new_grace_period_announced_again(
    billing: Billing, buckets: Buckets, billing_settings: BillingSettings, topology: Topology
) -> None:
    tenant_id = await tenant_on_pro(billing, buckets)
    await _fail(billing)
    first = await _grace_end(billing, tenant_id)
    later = datetime.now(UTC) + timedelta(seconds=2)  # Stripe's times are whole seconds
    paid = await deliver(billing, stripe_event("invoice.paid", invoice(), created=later))
    assert paid.status_code == 200, paid.text
    await _fail(billing, created=later + timedelta(seconds=1))
    notices = await notices_on(billing_settings.nats_url, topology, tenant_id)
    assert [(type(n), n.grace_ends_at) for n in notices] == [
        (PaymentFailed, first),
        (PaymentFailed, await _grace_end(billing, tenant_id)),
    ]
    assert notices[0].grace_ends_at < notices[1].grace_ends_at


async def test_a_failure_reported_while_nats_is_down_is_announced_once_nats_is_back(
    billing_on_private_nats: Billing, private_nats: PrivateNats, topology: Topology
) -> None:
    billing = billing_on_private_nats
    tenant_id = (await billing.create_tenant())["tenant"]["tenant_id"]
    linked = stripe_event("customer.subscription.created", subscription(tenant_id))
    assert (await deliver(billing, linked)).status_code == 200
    private_nats.stop()
    failed = await deliver(billing, stripe_event("invoice.payment_failed", invoice()))
    # Stripe may be told to retry (the buckets were not written), but the failure is saved.
    assert failed.status_code in (200, 503), failed.text
    private_nats.start()

    async def ready() -> bool:
        return (await billing.http.get("/readyz")).status_code == 200

    await eventually(ready, what="billing ready again", timeout_s=15)
    assert await billing.jobs.announce_payment_notices() == 1
    assert await billing.jobs.announce_payment_notices() == 0
    (notice,) = await notices_on(private_nats.url, topology, tenant_id)
    assert isinstance(notice, PaymentFailed)
    assert notice.grace_ends_at == await _grace_end(billing, tenant_id)

"""Stripe's events move a tenant's plan and standing, in Stripe's order, once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.billing.domain.plans import PaymentState, Tenant
from services.billing.domain.stripe_payloads import StripeEvent
from services.billing.domain.subscriptions import StripeRules, apply_event, lapse, tenant_hint
from services.billing.fsm import Lifecycle
from tests import factories

RULES = StripeRules(
    prices={"price_pro": "pro", "price_basic": "basic", "price_gold": "gold"},
    plans=frozenset({"free", "basic", "pro"}),
    grace=timedelta(days=3),
    fallback_plan="free",
)
T = datetime(2026, 3, 1, 12, tzinfo=UTC)


def event(kind: str, obj: dict[str, Any], at: datetime = T) -> StripeEvent:
    body = {"id": "evt_1", "type": kind, "created": int(at.timestamp()), "data": {"object": obj}}
    return StripeEvent.model_validate_json(json.dumps(body))


def sub(status: str, price: str = "price_pro") -> dict[str, Any]:
    items = {"data": [{"price": {"id": price}}]}
    return {"id": "sub_1", "customer": "cus_1", "status": status, "items": items}


def tenant(**overrides: object) -> Tenant:
    fields: dict[str, object] = {
        "tenant_id": "01J00000000000000000000000",
        "name": "Ada",
        "lifecycle": Lifecycle.ACTIVE,
        "plan": "free",
        "created_at": factories.T0,
        "updated_at": factories.T0,
    }
    return Tenant.model_validate(fields | overrides)


def test_an_active_subscription_gives_the_plan_of_its_price() -> None:
    changed, note = apply_event(
        tenant(), event("customer.subscription.created", sub("active")), RULES, T
    )
    assert (changed.plan, changed.payment_state) == ("pro", PaymentState.OK)
    assert (changed.stripe_customer_id, changed.stripe_subscription_id) == ("cus_1", "sub_1")
    assert note == "active: plan pro"


def test_a_price_for_no_known_plan_leaves_the_plan_alone() -> None:
    for price in ("price_unknown", "price_gold"):
        e = event("customer.subscription.updated", sub("active", price))
        changed, note = apply_event(tenant(plan="basic"), e, RULES, T)
        assert changed.plan == "basic"
        assert "plan unchanged" in note


def test_a_failed_payment_starts_the_grace_period_once() -> None:
    first, _ = apply_event(
        tenant(plan="pro"), event("invoice.payment_failed", {"id": "in_1"}), RULES, T
    )
    assert (first.payment_state, first.grace_ends_at) == (PaymentState.GRACE, T + timedelta(days=3))
    later = T + timedelta(days=1)
    retry, _ = apply_event(
        first, event("invoice.payment_failed", {"id": "in_1"}, later), RULES, later
    )
    assert retry.grace_ends_at == T + timedelta(days=3)  # counted from the first failure


def test_past_due_starts_the_grace_period_and_keeps_the_plan() -> None:
    changed, _ = apply_event(
        tenant(plan="pro"), event("customer.subscription.updated", sub("past_due")), RULES, T
    )
    assert (changed.plan, changed.payment_state) == ("pro", PaymentState.GRACE)


def test_a_failure_seen_after_its_grace_ended_lapses_at_once() -> None:
    now = T + timedelta(days=4)
    changed, _ = apply_event(
        tenant(plan="pro"), event("invoice.payment_failed", {"id": "in_1"}), RULES, now
    )
    assert changed.payment_state is PaymentState.LAPSED


def test_grace_runs_out_exactly_at_its_end_and_payment_restores_the_plan() -> None:
    grace, _ = apply_event(
        tenant(plan="pro"), event("invoice.payment_failed", {"id": "in_1"}), RULES, T
    )
    ends = T + timedelta(days=3)
    assert lapse(grace, ends - timedelta(microseconds=1)) is grace
    lapsed = lapse(grace, ends)
    assert lapsed.payment_state is PaymentState.LAPSED
    paid, _ = apply_event(lapsed, event("invoice.paid", {"id": "in_1"}, ends), RULES, ends)
    assert (paid.plan, paid.payment_state, paid.grace_ends_at) == ("pro", PaymentState.OK, None)


def test_a_canceled_or_deleted_subscription_falls_back_to_free() -> None:
    canceled, _ = apply_event(
        tenant(plan="pro"), event("customer.subscription.updated", sub("canceled")), RULES, T
    )
    deleted, _ = apply_event(
        tenant(plan="pro"), event("customer.subscription.deleted", sub("canceled")), RULES, T
    )
    assert canceled.plan == deleted.plan == "free"
    assert deleted.stripe_subscription_id is None


def test_an_incomplete_subscription_waits_for_its_first_payment() -> None:
    changed, note = apply_event(
        tenant(), event("customer.subscription.created", sub("incomplete")), RULES, T
    )
    assert changed.plan == "free"
    assert "waiting" in note


def test_an_event_older_than_the_last_applied_is_ignored() -> None:
    newer, _ = apply_event(
        tenant(), event("customer.subscription.updated", sub("active")), RULES, T
    )
    older = event("customer.subscription.updated", sub("canceled"), T - timedelta(seconds=1))
    same, note = apply_event(newer, older, RULES, T)
    assert same == newer
    assert note.startswith("stale")


def test_checkout_links_the_customer_and_sets_the_bought_plan() -> None:
    session = {
        "id": "cs_1",
        "customer": {"id": "cus_9"},
        "subscription": "sub_9",
        "payment_status": "paid",
        "metadata": {"plan": "basic"},
    }
    changed, _ = apply_event(tenant(), event("checkout.session.completed", session), RULES, T)
    assert (changed.plan, changed.stripe_customer_id, changed.stripe_subscription_id) == (
        "basic",
        "cus_9",
        "sub_9",
    )


def checkout(payment_status: str | None, plan: str = "basic") -> dict[str, Any]:
    session: dict[str, Any] = {
        "id": "cs_1",
        "customer": "cus_9",
        "subscription": "sub_9",
        "client_reference_id": "T1",
        "metadata": {"plan": plan},
    }
    return session | ({"payment_status": payment_status} if payment_status else {})


def test_a_checkout_that_needs_no_payment_sets_the_bought_plan() -> None:
    e = event("checkout.session.completed", checkout("no_payment_required"))
    changed, note = apply_event(tenant(), e, RULES, T)
    assert (changed.plan, changed.payment_state) == ("basic", PaymentState.OK)
    assert note == "checkout completed: plan basic"


@pytest.mark.parametrize("payment_status", ["unpaid", "processing", None])
def test_an_unpaid_checkout_links_the_customer_but_gives_no_plan(
    payment_status: str | None,
) -> None:
    lapsed = tenant(payment_state=PaymentState.LAPSED)
    e = event("checkout.session.completed", checkout(payment_status))
    changed, note = apply_event(lapsed, e, RULES, T)
    assert (changed.plan, changed.payment_state) == ("free", PaymentState.LAPSED)
    assert (changed.stripe_customer_id, changed.stripe_subscription_id) == ("cus_9", "sub_9")
    assert "plan basic waits for the payment" in note


def test_the_async_payment_of_a_checkout_succeeding_gives_the_plan() -> None:
    waiting, _ = apply_event(
        tenant(), event("checkout.session.completed", checkout("unpaid")), RULES, T
    )
    later = T + timedelta(days=2)
    paid = event("checkout.session.async_payment_succeeded", checkout("paid"), later)
    changed, note = apply_event(waiting, paid, RULES, later)
    assert (changed.plan, changed.payment_state, changed.stripe_event_at) == (
        "basic",
        PaymentState.OK,
        later,
    )
    assert note == "checkout paid: plan basic"


def test_the_async_payment_of_a_checkout_failing_leaves_the_tenant_as_it_was() -> None:
    waiting, _ = apply_event(
        tenant(), event("checkout.session.completed", checkout("unpaid")), RULES, T
    )
    later = T + timedelta(days=2)
    failed = event("checkout.session.async_payment_failed", checkout("unpaid"), later)
    same, note = apply_event(waiting, failed, RULES, later)
    assert same is waiting
    assert note == "checkout payment failed: plan basic not given; tenant unchanged"


def test_an_async_checkout_event_names_its_tenant_by_the_session() -> None:
    for kind in ("async_payment_succeeded", "async_payment_failed"):
        hint = tenant_hint(event(f"checkout.session.{kind}", checkout("paid")))
        assert (hint.tenant_id, hint.customer_id) == ("T1", "cus_9")


def test_an_event_names_its_tenant_by_our_id_or_by_stripes_customer() -> None:
    session = {"id": "cs_1", "customer": "cus_1", "client_reference_id": "T1"}
    assert tenant_hint(event("checkout.session.completed", session)).tenant_id == "T1"
    with_meta = {**sub("active"), "metadata": {"tenant_id": "T2"}}
    assert tenant_hint(event("customer.subscription.updated", with_meta)).tenant_id == "T2"
    invoice = {
        "id": "in_1",
        "customer": "cus_3",
        "parent": {
            "subscription_details": {"subscription": "sub_3", "metadata": {"tenant_id": "T3"}}
        },
    }
    hint = tenant_hint(event("invoice.paid", invoice))
    assert (hint.tenant_id, hint.customer_id) == ("T3", "cus_3")

"""How Stripe's events move a tenant's plan and payment standing. Pure: no I/O.

- A paid, active or trialing subscription gives the plan its price maps to.
- A completed checkout gives the plan it sold only once paid (``payment_status`` ``paid`` or
  ``no_payment_required``): one paid by an asynchronous method (``unpaid``, a bank debit)
  waits for ``checkout.session.async_payment_succeeded``; ``async_payment_failed`` leaves the
  tenant as it was.
- A failed payment (``invoice.payment_failed``, or a subscription ``past_due``/``unpaid``)
  starts a grace period, counted from when Stripe saw the failure; the tenant keeps its plan.
- Once the grace period ends, the fallback plan's limits apply (`PaymentState.LAPSED`);
  the tenant is never deleted for it. A later paid invoice restores the plan.
- A canceled or expired subscription moves the tenant to the fallback plan.
- Events are applied in Stripe's order: one older than the last applied is ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from services.billing.domain.plans import PaymentState, Tenant, grace_over
from services.billing.domain.stripe_payloads import (
    CheckoutSession,
    Invoice,
    StripeEvent,
    Subscription,
)

ACTIVE = frozenset({"active", "trialing"})
DELINQUENT = frozenset({"past_due", "unpaid"})
ENDED = frozenset({"canceled", "incomplete_expired", "paused"})
PAID_CHECKOUT = frozenset({"paid", "no_payment_required"})
CHECKOUT_PAYMENT_FAILED = "checkout.session.async_payment_failed"
TENANT_METADATA_KEY = "tenant_id"
PLAN_METADATA_KEY = "plan"

Update = dict[str, Any]
Outcome = tuple[Update | None, str]  # None: leave the tenant exactly as it was


@dataclass(frozen=True, slots=True)
class StripeRules:
    """What the operator configured: price ids → plans, the plans, grace and fallback."""

    prices: Mapping[str, str]
    plans: frozenset[str]
    grace: timedelta
    fallback_plan: str


@dataclass(frozen=True, slots=True)
class TenantHint:
    """How an event names its tenant: our id in metadata, or Stripe's customer id."""

    tenant_id: str | None
    customer_id: str | None


def tenant_hint(event: StripeEvent) -> TenantHint:
    """Return what ``event`` says about whose it is."""
    obj = event.data.object
    if event.type.startswith("checkout.session."):
        session = CheckoutSession.model_validate(obj)
        tenant = session.client_reference_id or session.metadata.get(TENANT_METADATA_KEY)
        return TenantHint(tenant, session.customer)
    if event.type.startswith("customer.subscription."):
        sub = Subscription.model_validate(obj)
        return TenantHint(sub.metadata.get(TENANT_METADATA_KEY), sub.customer)
    invoice = Invoice.model_validate(obj)
    return TenantHint(invoice.metadata.get(TENANT_METADATA_KEY), invoice.customer)


def apply_event(
    tenant: Tenant, event: StripeEvent, rules: StripeRules, now: datetime
) -> tuple[Tenant, str]:
    """Return the tenant after ``event`` and a note on what changed, for the audit table."""
    at = datetime.fromtimestamp(event.created, UTC)
    if tenant.stripe_event_at is not None and at < tenant.stripe_event_at:
        return tenant, "stale: a newer event was already applied"
    update, note = _HANDLERS[event.type](tenant, event.data.object, rules, at)
    if update is None:
        return tenant, note
    changed = tenant.model_copy(update={**update, "stripe_event_at": at, "updated_at": now})
    if grace_over(changed, now):
        changed = changed.model_copy(update={"payment_state": PaymentState.LAPSED})
    return changed, note


def lapse(tenant: Tenant, now: datetime) -> Tenant:
    """Return ``tenant`` moved to the fallback limits if its grace period is over."""
    if not grace_over(tenant, now):
        return tenant
    return tenant.model_copy(update={"payment_state": PaymentState.LAPSED, "updated_at": now})


def _paid() -> Update:
    return {"payment_state": PaymentState.OK, "grace_ends_at": None}


def _failed(tenant: Tenant, at: datetime, grace: timedelta) -> Update:
    if tenant.payment_state is not PaymentState.OK:
        return {}  # the grace period runs from the first failure, not the latest retry
    return {"payment_state": PaymentState.GRACE, "grace_ends_at": at + grace}


def _linked(tenant: Tenant, session: CheckoutSession) -> Update:
    return {
        "stripe_customer_id": session.customer or tenant.stripe_customer_id,
        "stripe_subscription_id": session.subscription or tenant.stripe_subscription_id,
    }


def _checkout(tenant: Tenant, obj: dict[str, object], rules: StripeRules, at: datetime) -> Outcome:
    session = CheckoutSession.model_validate(obj)
    update = _linked(tenant, session)
    plan = session.metadata.get(PLAN_METADATA_KEY)
    if plan not in rules.plans:
        return update, "customer linked; the plan follows the subscription"
    if session.payment_status not in PAID_CHECKOUT:
        status = session.payment_status or "not stated"
        return update, f"checkout completed, payment {status}: plan {plan} waits for the payment"
    return {**update, "plan": plan, **_paid()}, f"checkout completed: plan {plan}"


def _checkout_paid(
    tenant: Tenant, obj: dict[str, object], rules: StripeRules, at: datetime
) -> Outcome:
    session = CheckoutSession.model_validate(obj)
    update = _linked(tenant, session)
    plan = session.metadata.get(PLAN_METADATA_KEY)
    if plan not in rules.plans:
        return update, "checkout paid; the plan follows the subscription"
    return {**update, "plan": plan, **_paid()}, f"checkout paid: plan {plan}"


def _checkout_failed(
    tenant: Tenant, obj: dict[str, object], rules: StripeRules, at: datetime
) -> Outcome:
    plan = CheckoutSession.model_validate(obj).metadata.get(PLAN_METADATA_KEY)
    return None, f"checkout payment failed: plan {plan} not given; tenant unchanged"


def _subscription(
    tenant: Tenant, obj: dict[str, object], rules: StripeRules, at: datetime
) -> tuple[Update, str]:
    sub = Subscription.model_validate(obj)
    update: Update = {
        "stripe_customer_id": sub.customer or tenant.stripe_customer_id,
        "stripe_subscription_id": sub.id,
        "subscription_status": sub.status,
    }
    plans = [rules.prices[p] for p in sub.price_ids if rules.prices.get(p) in rules.plans]
    if sub.status in ENDED:
        return {**update, "plan": rules.fallback_plan, **_paid()}, f"{sub.status}: fallback plan"
    plan_update: Update = {"plan": plans[0]} if plans else {}
    note = f"plan {plans[0]}" if plans else f"no plan for prices {sub.price_ids}; plan unchanged"
    if sub.status in ACTIVE:
        return {**update, **plan_update, **_paid()}, f"{sub.status}: {note}"
    if sub.status in DELINQUENT:
        return {**update, **plan_update, **_failed(tenant, at, rules.grace)}, f"{sub.status}"
    return update, f"{sub.status}: waiting for the first payment"


def _deleted(
    tenant: Tenant, obj: dict[str, object], rules: StripeRules, at: datetime
) -> tuple[Update, str]:
    update: Update = {"stripe_subscription_id": None, "subscription_status": "canceled"}
    return {**update, "plan": rules.fallback_plan, **_paid()}, "subscription ended: fallback plan"


def _invoice_paid(
    tenant: Tenant, obj: dict[str, object], rules: StripeRules, at: datetime
) -> tuple[Update, str]:
    return _paid(), "invoice paid"


def _invoice_failed(
    tenant: Tenant, obj: dict[str, object], rules: StripeRules, at: datetime
) -> tuple[Update, str]:
    return _failed(tenant, at, rules.grace), "payment failed: grace period"


_Handler = Callable[[Tenant, dict[str, object], StripeRules, datetime], Outcome]
_HANDLERS: dict[str, _Handler] = {
    "checkout.session.completed": _checkout,
    "checkout.session.async_payment_succeeded": _checkout_paid,
    CHECKOUT_PAYMENT_FAILED: _checkout_failed,
    "customer.subscription.created": _subscription,
    "customer.subscription.updated": _subscription,
    "customer.subscription.deleted": _deleted,
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _invoice_failed,
}
HANDLED_TYPES = frozenset(_HANDLERS)

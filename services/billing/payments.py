"""Subscriptions through Stripe: verified webhooks move plans; checkout and portal links.

A webhook is applied once: its event id is claimed in the transaction that changes the
tenant, so Stripe's redeliveries (and concurrent duplicates) find it claimed and change
nothing. Events for a tenant billing does not know are recorded and acknowledged. A failed
payment that starts a grace period is announced (``billing.payment_failed``, `notices`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.billing import examples, notices
from services.billing.adapters.stripe_client import StripeGateway, verify_event
from services.billing.domain.plans import Tenant
from services.billing.domain.stripe_payloads import StripeEvent
from services.billing.domain.subscriptions import (
    CHECKOUT_PAYMENT_FAILED,
    HANDLED_TYPES,
    StripeRules,
    TenantHint,
    apply_event,
    tenant_hint,
)
from services.billing.errors import (
    ConflictError,
    InvalidRequestError,
    NotConfiguredError,
    SignatureError,
)
from services.billing.metrics import STRIPE_EVENTS
from services.billing.notices import failure_owed
from services.billing.runtime import Runtime
from services.billing.schemas import Link
from services.billing.store import stripe_events as event_store
from services.billing.store import tenants as tenant_store

log = logging.getLogger(__name__)


class Receipt(BaseModel):
    """What billing answers Stripe (any 2xx stops its retries)."""

    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [examples.RECEIPT]})

    received: bool = True
    duplicate: bool = False
    outcome: str

    @property
    def kind(self) -> str:
        """The outcome in one word, for metrics."""
        if self.duplicate:
            return "duplicate"
        first = self.outcome.split(":", 1)[0]
        return first if first in ("ignored", "stale") else "applied"


class Payments:
    """Stripe's webhooks in, checkout and portal links out."""

    def __init__(self, rt: Runtime, gateway: StripeGateway | None) -> None:
        self._rt = rt
        self._gateway = gateway

    async def receive(self, payload: bytes, signature: str | None) -> Receipt:
        """Verify and apply one webhook delivery; raise `SignatureError` if it is not Stripe's."""
        secret = self._rt.settings.stripe_webhook_secret
        if secret is None:
            raise NotConfiguredError("Stripe webhooks are not configured on this deployment.")
        try:
            event = verify_event(
                payload, signature, secret.get_secret_value(), self._rt.settings.stripe_tolerance_s
            )
        except SignatureError:
            STRIPE_EVENTS.labels("unverified", "refused").inc()
            raise
        if event.type not in HANDLED_TYPES:
            receipt = Receipt(outcome=f"ignored: billing does not act on {event.type}")
        else:
            receipt = await self._apply(event)
        kind = event.type if event.type in HANDLED_TYPES else "other"
        STRIPE_EVENTS.labels(kind, receipt.kind).inc()
        return receipt

    async def _apply(self, event: StripeEvent) -> Receipt:
        now = self._rt.now()
        try:
            hint = tenant_hint(event)
        except ValidationError as exc:
            raise SignatureError(f"The {event.type} event's object cannot be read.") from exc
        async with self._rt.engine.begin() as conn:
            created = datetime.fromtimestamp(event.created, UTC)
            if not await event_store.claim(conn, event.id, event.type, created, now):
                return Receipt(duplicate=True, outcome="already applied")
            tenant = await _tenant_of(conn, hint)
            if tenant is None or tenant.deleted:
                await event_store.settle(conn, event.id, None, "ignored: no such tenant")
                return Receipt(outcome="ignored: no such tenant")
            plans = await self._rt.plans(conn)
            changed, note = apply_event(tenant, event, self._rules(frozenset(plans)), now)
            if changed is tenant:  # stale, or a checkout payment that failed
                await event_store.settle(conn, event.id, tenant.tenant_id, note)
                _log_unchanged(event, tenant.tenant_id, note)
                return Receipt(outcome=note)
            if await _customer_taken(conn, changed):
                note = f"ignored: customer {changed.stripe_customer_id} is another tenant's"
                await event_store.settle(conn, event.id, tenant.tenant_id, note)
                return Receipt(outcome=note)
            await tenant_store.save_tenant(conn, changed)
            await event_store.settle(conn, event.id, tenant.tenant_id, note)
        log.info("stripe event applied", extra={"tenant_id": tenant.tenant_id, "outcome": note})
        if (owed := failure_owed(tenant, changed)) is not None:
            await notices.announce(self._rt, owed)  # left owed for maintenance on failure
        await self._rt.publish([self._rt.tenant_change(changed, plans)])
        return Receipt(outcome=note)

    def _rules(self, plans: frozenset[str]) -> StripeRules:
        settings = self._rt.settings
        return StripeRules(
            prices=settings.stripe_prices,
            plans=plans,
            grace=timedelta(seconds=settings.payment_grace_s),
            fallback_plan=settings.fallback_plan,
        )

    async def checkout(self, tenant_id: str, plan: str) -> Link:
        """Return a Stripe Checkout link that subscribes the tenant to ``plan``."""
        gateway = self._require_gateway()
        price = self._rt.settings.price_for(plan)
        if price is None:
            raise InvalidRequestError(f"Plan {plan!r} cannot be bought online; contact us.")
        tenant = await self._tenant(tenant_id)
        url = await gateway.checkout_url(
            tenant_id=tenant_id,
            plan=plan,
            price_id=price,
            customer_id=tenant.stripe_customer_id,
            success_url=self._rt.settings.stripe_success_url,
            cancel_url=self._rt.settings.stripe_cancel_url,
        )
        return Link(url=url)

    async def portal(self, tenant_id: str) -> Link:
        """Return a link to Stripe's customer portal (invoices, card, cancellation)."""
        gateway = self._require_gateway()
        tenant = await self._tenant(tenant_id)
        if tenant.stripe_customer_id is None:
            raise ConflictError("You have no subscription yet: subscribe to a plan first.")
        url = await gateway.portal_url(
            customer_id=tenant.stripe_customer_id,
            return_url=self._rt.settings.stripe_portal_return_url,
        )
        return Link(url=url)

    def _require_gateway(self) -> StripeGateway:
        if self._gateway is None:
            raise NotConfiguredError("Online payments are not configured on this deployment.")
        return self._gateway

    async def _tenant(self, tenant_id: str) -> Tenant:
        async with self._rt.engine.connect() as conn:
            tenant = await tenant_store.get_tenant(conn, tenant_id)
        if tenant is None or tenant.deleted:
            raise ConflictError(f"There is no tenant {tenant_id}.")
        return tenant


def _log_unchanged(event: StripeEvent, tenant_id: str, note: str) -> None:
    extra = {"tenant_id": tenant_id, "stripe_event_id": event.id, "outcome": note}
    if event.type == CHECKOUT_PAYMENT_FAILED:
        log.warning("stripe checkout payment failed; tenant left as it was", extra=extra)
    else:
        log.info("stripe event changed nothing", extra=extra)


async def _customer_taken(conn: AsyncConnection, tenant: Tenant) -> bool:
    """Whether the tenant's Stripe customer is already linked to another tenant."""
    if tenant.stripe_customer_id is None:
        return False
    owner = await tenant_store.tenant_of_customer(conn, tenant.stripe_customer_id)
    return owner is not None and owner.tenant_id != tenant.tenant_id


async def _tenant_of(conn: AsyncConnection, hint: TenantHint) -> Tenant | None:
    if hint.tenant_id:
        tenant = await tenant_store.get_tenant(conn, hint.tenant_id, for_update=True)
        if tenant is not None:
            return tenant
    if hint.customer_id:
        return await tenant_store.tenant_of_customer(conn, hint.customer_id)
    return None

"""Tenant routes: a tenant manages its own webhooks and API keys and reads its usage.

The caller is whoever its API key says (``CurrentTenant``); no route takes a tenant id, so
a key can reach nothing of another tenant's.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from libs.common.api import answers
from libs.common.auth import CurrentTenant
from libs.common.messages.types import Iso8601
from services.billing.api.deps import ApiKeyId, ServicesDep, WebhookId
from services.billing.domain.usage import Period, UsageRow
from services.billing.schemas import (
    AT_ONCE,
    ApiKeyCreated,
    ApiKeySpec,
    ApiKeyView,
    CheckoutSpec,
    Link,
    Rotation,
    TenantView,
    WebhookChange,
    WebhookCreated,
    WebhookSpec,
    WebhookView,
)

# Every route: no valid key (401), a suspended account (403), starting up or an outage (503).
router = APIRouter(prefix="/api/v1", tags=["tenant"], responses=answers(401, 403, 503))
# One of your webhooks or keys: unknown (404), your account deleted meanwhile (409).
ONE = answers(404, 409)

From = Annotated[date | None, Iso8601, Query(alias="from", description="First UTC day (or month).")]
To = Annotated[date | None, Iso8601, Query(alias="to", description="Last UTC day (or month).")]


@router.get("/account", responses=answers(404))
async def my_account(me: CurrentTenant, s: ServicesDep) -> TenantView:
    """Your plan, the limits in force and your payment standing."""
    return await s.accounts.get(me.tenant_id)


@router.get("/webhooks")
async def my_webhooks(me: CurrentTenant, s: ServicesDep) -> list[WebhookView]:
    return await s.webhooks.list_webhooks(me.tenant_id)


@router.post("/webhooks", status_code=status.HTTP_201_CREATED, responses=answers(409))
async def new_webhook(spec: WebhookSpec, me: CurrentTenant, s: ServicesDep) -> WebhookCreated:
    """Add a webhook (one per strategy); its URL is shown this once."""
    return await s.webhooks.create_webhook(me.tenant_id, spec)


@router.patch("/webhooks/{webhook_id}", responses=ONE)
async def change_webhook(
    webhook_id: WebhookId, change: WebhookChange, me: CurrentTenant, s: ServicesDep
) -> WebhookView:
    return await s.webhooks.update_webhook(me.tenant_id, webhook_id, change)


@router.post("/webhooks/{webhook_id}/rotate", status_code=status.HTTP_201_CREATED, responses=ONE)
async def rotate_webhook(
    webhook_id: WebhookId, me: CurrentTenant, s: ServicesDep, rotation: Rotation = AT_ONCE
) -> WebhookCreated:
    return await s.webhooks.rotate_webhook(me.tenant_id, webhook_id, rotation)


@router.delete("/webhooks/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ONE)
async def revoke_webhook(webhook_id: WebhookId, me: CurrentTenant, s: ServicesDep) -> Response:
    await s.webhooks.revoke_webhook(me.tenant_id, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/api-keys")
async def my_api_keys(me: CurrentTenant, s: ServicesDep) -> list[ApiKeyView]:
    return await s.api_keys.list_api_keys(me.tenant_id)


@router.post("/api-keys", status_code=status.HTTP_201_CREATED, responses=answers(409))
async def new_api_key(spec: ApiKeySpec, me: CurrentTenant, s: ServicesDep) -> ApiKeyCreated:
    return await s.api_keys.create_api_key(me.tenant_id, spec)


@router.post("/api-keys/{key_id}/rotate", status_code=status.HTTP_201_CREATED, responses=ONE)
async def rotate_api_key(
    key_id: ApiKeyId, me: CurrentTenant, s: ServicesDep, rotation: Rotation = AT_ONCE
) -> ApiKeyCreated:
    return await s.api_keys.rotate_api_key(me.tenant_id, key_id, rotation)


@router.delete("/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ONE)
async def revoke_api_key(key_id: ApiKeyId, me: CurrentTenant, s: ServicesDep) -> Response:
    await s.api_keys.revoke_api_key(me.tenant_id, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/usage")
async def my_usage(
    me: CurrentTenant,
    s: ServicesDep,
    period: Period = Period.DAY,
    start: From = None,
    end: To = None,
) -> list[UsageRow]:
    """Your alerts and orders per UTC day (default: the last 30) or month (the last 12)."""
    return await s.usage.report(period, start, end, me.tenant_id)


@router.post("/billing/checkout", responses=answers(404, 409))
async def checkout(spec: CheckoutSpec, me: CurrentTenant, s: ServicesDep) -> Link:
    """A Stripe Checkout link to subscribe to a plan."""
    return await s.payments.checkout(me.tenant_id, spec.plan)


@router.post("/billing/portal", responses=answers(404, 409))
async def portal(me: CurrentTenant, s: ServicesDep) -> Link:
    """A link to Stripe's portal: invoices, payment method, cancellation."""
    return await s.payments.portal(me.tenant_id)

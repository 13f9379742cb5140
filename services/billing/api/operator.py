"""Operator routes: every tenant, its plan, webhooks, keys and usage. Operator tokens only;
every action lands in the audit log (`api.audited`).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Query, Request, Response, status

from libs.common.api import answers
from libs.common.ids import TenantId
from libs.common.messages.types import Iso8601
from services.billing.api.audited import note_target, operator_router
from services.billing.api.deps import (
    ApiKeyId,
    ServicesDep,
    TenantIdPath,
    WebhookId,
)
from services.billing.domain.usage import Period, UsageRow
from services.billing.schemas import (
    AT_ONCE,
    ApiKeyCreated,
    ApiKeySpec,
    ApiKeyView,
    PlanChange,
    PlanView,
    Rotation,
    TenantCreated,
    TenantPage,
    TenantSpec,
    TenantView,
    WebhookChange,
    WebhookCreated,
    WebhookSpec,
    WebhookView,
)

router = operator_router()
# A tenant's routes: unknown (404), deleted (409); a plan or allowlist that cannot be used (422).
ONE = answers(404, 409, 422)
# Adding a webhook or an API key: also the plan's limit (403).
ADD = answers(403, 404, 409, 422)

From = Annotated[date | None, Iso8601, Query(alias="from", description="First UTC day (or month).")]
To = Annotated[date | None, Iso8601, Query(alias="to", description="Last UTC day (or month).")]
TENANT = "/tenants/{tenant_id}"


@router.post("/tenants", status_code=status.HTTP_201_CREATED, responses=answers(409, 422))
async def create_tenant(spec: TenantSpec, s: ServicesDep, request: Request) -> TenantCreated:
    """Create a tenant; the answer holds its webhook URL and API key, shown this once."""
    created = await s.accounts.create(spec)
    note_target(request, tenant_id=created.tenant.tenant_id)
    return created


@router.get("/tenants")
async def list_tenants(
    s: ServicesDep,
    include_deleted: bool = False,  # noqa: FBT001, FBT002 - a query flag
    after: TenantId | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> TenantPage:
    return await s.accounts.page(include_deleted=include_deleted, after=after, limit=limit)


@router.get("/tenants/usage", responses=answers(422))
async def usage_of_everyone(
    s: ServicesDep,
    period: Period = Period.DAY,
    start: From = None,
    end: To = None,
    tenant_id: TenantId | None = None,
) -> list[UsageRow]:
    """Usage of every tenant (or one), per day or month."""
    return await s.usage.report(period, start, end, tenant_id)


@router.get("/plans")
async def list_plans(s: ServicesDep) -> list[PlanView]:
    return await s.accounts.plans()


@router.get(TENANT, responses=ONE)
async def get_tenant(tenant_id: TenantIdPath, s: ServicesDep) -> TenantView:
    return await s.accounts.get(tenant_id)


@router.post(TENANT + "/suspend", responses=ONE)
async def suspend_tenant(tenant_id: TenantIdPath, s: ServicesDep) -> TenantView:
    return await s.accounts.suspend(tenant_id)


@router.post(TENANT + "/resume", responses=ONE)
async def resume_tenant(tenant_id: TenantIdPath, s: ServicesDep) -> TenantView:
    return await s.accounts.resume(tenant_id)


@router.delete(TENANT, status_code=status.HTTP_204_NO_CONTENT, responses=ONE)
async def delete_tenant(tenant_id: TenantIdPath, s: ServicesDep) -> Response:
    await s.accounts.delete(tenant_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put(TENANT + "/plan", responses=ONE)
async def set_plan(tenant_id: TenantIdPath, change: PlanChange, s: ServicesDep) -> TenantView:
    return await s.accounts.set_plan(tenant_id, change)


@router.get(TENANT + "/webhooks", responses=ONE)
async def list_webhooks(tenant_id: TenantIdPath, s: ServicesDep) -> list[WebhookView]:
    return await s.webhooks.list_webhooks(tenant_id)


@router.post(TENANT + "/webhooks", status_code=status.HTTP_201_CREATED, responses=ADD)
async def create_webhook(
    tenant_id: TenantIdPath, spec: WebhookSpec, s: ServicesDep, request: Request
) -> WebhookCreated:
    created = await s.webhooks.create_webhook(tenant_id, spec)
    note_target(request, target=created.webhook.webhook_id)
    return created


@router.patch(TENANT + "/webhooks/{webhook_id}", responses=ONE)
async def change_webhook(
    tenant_id: TenantIdPath, webhook_id: WebhookId, change: WebhookChange, s: ServicesDep
) -> WebhookView:
    return await s.webhooks.update_webhook(tenant_id, webhook_id, change)


@router.post(
    TENANT + "/webhooks/{webhook_id}/rotate", status_code=status.HTTP_201_CREATED, responses=ONE
)
async def rotate_webhook(
    tenant_id: TenantIdPath, webhook_id: WebhookId, s: ServicesDep, rotation: Rotation = AT_ONCE
) -> WebhookCreated:
    return await s.webhooks.rotate_webhook(tenant_id, webhook_id, rotation)


@router.delete(
    TENANT + "/webhooks/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ONE
)
async def revoke_webhook(
    tenant_id: TenantIdPath, webhook_id: WebhookId, s: ServicesDep
) -> Response:
    await s.webhooks.revoke_webhook(tenant_id, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(TENANT + "/api-keys", responses=ONE)
async def list_api_keys(tenant_id: TenantIdPath, s: ServicesDep) -> list[ApiKeyView]:
    return await s.api_keys.list_api_keys(tenant_id)


@router.post(TENANT + "/api-keys", status_code=status.HTTP_201_CREATED, responses=ADD)
async def create_api_key(
    tenant_id: TenantIdPath, spec: ApiKeySpec, s: ServicesDep, request: Request
) -> ApiKeyCreated:
    created = await s.api_keys.create_api_key(tenant_id, spec)
    note_target(request, target=created.api_key.key_id)
    return created


@router.post(
    TENANT + "/api-keys/{key_id}/rotate", status_code=status.HTTP_201_CREATED, responses=ONE
)
async def rotate_api_key(
    tenant_id: TenantIdPath, key_id: ApiKeyId, s: ServicesDep, rotation: Rotation = AT_ONCE
) -> ApiKeyCreated:
    return await s.api_keys.rotate_api_key(tenant_id, key_id, rotation)


@router.delete(TENANT + "/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ONE)
async def revoke_api_key(tenant_id: TenantIdPath, key_id: ApiKeyId, s: ServicesDep) -> Response:
    await s.api_keys.revoke_api_key(tenant_id, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(TENANT + "/usage", responses=ONE)
async def usage_of_tenant(
    tenant_id: TenantIdPath,
    s: ServicesDep,
    period: Period = Period.DAY,
    start: From = None,
    end: To = None,
) -> list[UsageRow]:
    return await s.usage.report(period, start, end, tenant_id)

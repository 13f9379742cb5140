"""Domain objects as the API shows them: masked secrets, states at a given time."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from libs.common.records import PlanLimits
from services.billing.domain.credentials import (
    ApiKey,
    CredentialState,
    Webhook,
    WebhookToken,
    state_of,
)
from services.billing.domain.plans import Tenant, limits_in_force, plan_in_force
from services.billing.schemas import ApiKeyView, TenantView, TokenView, WebhookView


def webhook_view(webhook: Webhook, tokens: list[WebhookToken], now: datetime) -> WebhookView:
    """Show a webhook and its tokens (first 8 characters of each, never more)."""
    state = CredentialState.REVOKED if webhook.revoked_at else CredentialState.ACTIVE
    return WebhookView(
        webhook_id=webhook.webhook_id,
        label=webhook.label,
        allowed_ips=list(webhook.allowed_ips),
        has_passphrase=webhook.passphrase_hash is not None,
        state=state,
        created_at=webhook.created_at,
        revoked_at=webhook.revoked_at,
        tokens=[
            TokenView(
                prefix=t.prefix,
                state=state_of(t.revoked_at, t.expires_at, now),
                created_at=t.created_at,
                expires_at=t.expires_at,
            )
            for t in tokens
            if t.webhook_id == webhook.webhook_id
        ],
    )


def api_key_view(key: ApiKey, now: datetime) -> ApiKeyView:
    """Show an API key by its first 8 characters."""
    return ApiKeyView(
        key_id=key.key_id,
        label=key.label,
        prefix=key.prefix,
        state=state_of(key.revoked_at, key.expires_at, now),
        created_at=key.created_at,
        expires_at=key.expires_at,
        revoked_at=key.revoked_at,
    )


def tenant_view(tenant: Tenant, plans: Mapping[str, PlanLimits], fallback_plan: str) -> TenantView:
    """Show a tenant with the plan and limits in force."""
    return TenantView(
        tenant_id=tenant.tenant_id,
        name=tenant.name,
        status=tenant.lifecycle,
        plan=tenant.plan,
        plan_in_force=plan_in_force(tenant, fallback_plan),
        limits=limits_in_force(tenant, plans, fallback_plan),
        overrides=tenant.overrides.given(),
        payment_state=tenant.payment_state,
        grace_ends_at=tenant.grace_ends_at,
        subscription_status=tenant.subscription_status,
        created_at=tenant.created_at,
        updated_at=tenant.updated_at,
        deleted_at=tenant.deleted_at,
    )

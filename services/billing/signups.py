"""Self-service sign-up (the web app's only call): a tenant on the sign-up plan, its first
webhook, and one API key labelled ``web``, in the answer once.

The web app creates its user row first and sends that row's id as ``signup_ref``. A sign-up
whose answer was lost is sent again with the same reference: it finds the tenant made the
first time and issues it a fresh ``web`` key and webhook token (the unseen ones end at once),
so a retry never leaves a tenant without a user nor makes a second one.
"""

from __future__ import annotations

import hmac
from functools import partial

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.common.ids import TenantId, new_tenant_id
from services.billing.accounts import forget_created
from services.billing.api_keys import ApiKeys
from services.billing.domain.credentials import webhook_url
from services.billing.domain.plans import Tenant
from services.billing.errors import ConflictError
from services.billing.fsm import Lifecycle
from services.billing.issuing import add_api_key, add_webhook, publish_new
from services.billing.runtime import Runtime, api_key_change, token_change
from services.billing.schemas import (
    AT_ONCE,
    ApiKeySpec,
    SignupCreated,
    SignupSpec,
    SignupWebhook,
    WebhookSpec,
)
from services.billing.store import tenants as store
from services.billing.store.tables import tenants
from services.billing.webhooks import Webhooks

WEB_KEY_LABEL = "web"


class Signups:
    """Create (or, retried, find again) a signed-up trader's tenant."""

    def __init__(self, rt: Runtime, api_keys: ApiKeys, webhooks: Webhooks) -> None:
        self._rt, self._api_keys, self._webhooks = rt, api_keys, webhooks

    def accepts(self, presented: str) -> bool:
        """Whether ``presented`` is the sign-up credential (compared in constant time)."""
        token = self._rt.settings.signup_token
        if token is None:  # sign-up closed
            return False
        return hmac.compare_digest(presented.encode(), token.get_secret_value().encode())

    async def sign_up(self, spec: SignupSpec) -> SignupCreated:
        """Return the tenant of ``spec.signup_ref`` with a new key and token, created if new."""
        if spec.signup_ref is not None:
            async with self._rt.engine.connect() as conn:
                found = await conn.scalar(
                    sa.select(tenants.c.tenant_id).where(tenants.c.signup_ref == spec.signup_ref)
                )
            if found is not None:
                return await self._reissue(found)
        return await self._create(spec)

    async def _create(self, spec: SignupSpec) -> SignupCreated:
        rt, now = self._rt, self._rt.now()
        tenant = Tenant(
            tenant_id=new_tenant_id(),
            name=spec.name,
            lifecycle=Lifecycle.ACTIVE,
            plan=rt.settings.signup_plan,
            created_at=now,
            updated_at=now,
        )
        try:
            async with rt.engine.begin() as conn:
                plans = await rt.plans(conn, tenant.plan)
                await store.insert_tenant(conn, tenant)
                await _set_ref(conn, tenant.tenant_id, spec.signup_ref)
                key, key_secret = await add_api_key(conn, tenant.tenant_id, WEB_KEY_LABEL, now)
                webhook, token, secret = await add_webhook(
                    conn, tenant.tenant_id, WebhookSpec(), now
                )
        except IntegrityError as exc:  # the same reference, sent twice at once
            raise ConflictError(
                "This sign-up is already being processed; send it again in a moment."
            ) from exc
        changes = [
            rt.tenant_change(tenant, plans),
            api_key_change(key, now),
            token_change(webhook, token, now),
        ]
        await publish_new(rt, changes, partial(forget_created, tenant.tenant_id))
        return SignupCreated(
            tenant_id=tenant.tenant_id,
            api_key=key_secret,
            webhook=SignupWebhook(
                id=webhook.webhook_id,
                token=secret,
                url=webhook_url(rt.settings.public_base_url, secret),
            ),
        )

    async def _reissue(self, tenant_id: TenantId) -> SignupCreated:
        """End the ``web`` keys nobody saw, issue a new one; rotate the first webhook."""
        for key in await self._api_keys.list_api_keys(tenant_id):
            if key.label == WEB_KEY_LABEL and key.revoked_at is None:
                await self._api_keys.revoke_api_key(tenant_id, key.key_id)
        created_key = await self._api_keys.create_api_key(
            tenant_id, ApiKeySpec(label=WEB_KEY_LABEL)
        )
        live = [w for w in await self._webhooks.list_webhooks(tenant_id) if w.revoked_at is None]
        if live:
            first = min(live, key=lambda w: (w.created_at, w.webhook_id))
            hook = await self._webhooks.rotate_webhook(tenant_id, first.webhook_id, AT_ONCE)
        else:
            hook = await self._webhooks.create_webhook(tenant_id, WebhookSpec())
        return SignupCreated(
            tenant_id=tenant_id,
            api_key=created_key.key,
            webhook=SignupWebhook(id=hook.webhook.webhook_id, token=hook.token, url=hook.url),
        )


async def _set_ref(conn: AsyncConnection, tenant_id: str, ref: str | None) -> None:
    if ref is not None:
        await conn.execute(
            sa.update(tenants).where(tenants.c.tenant_id == tenant_id).values(signup_ref=ref)
        )

"""Tenants: create (with a first webhook and API key), read, suspend, resume, delete, plan.

A tenant's record in the ``tenants`` bucket carries its status and the limits in force, so
a suspension or a plan change reaches ingress and the router within 2 seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial

from sqlalchemy.ext.asyncio import AsyncConnection

from libs.common.ids import TenantId, new_tenant_id
from services.billing import deletions
from services.billing.adapters.kv import Bucket, KvChange
from services.billing.config import DeletedTenantData
from services.billing.domain.credentials import Webhook, WebhookToken, webhook_url
from services.billing.domain.plans import Tenant
from services.billing.errors import NotFoundError
from services.billing.fsm import Lifecycle, move
from services.billing.issuing import add_api_key, add_webhook, publish_new
from services.billing.runtime import Runtime, api_key_change, token_change
from services.billing.schemas import (
    ApiKeyCreated,
    PlanChange,
    PlanView,
    TenantCreated,
    TenantPage,
    TenantSpec,
    TenantView,
    WebhookCreated,
)
from services.billing.store import credentials as credential_store
from services.billing.store import stripe_events as stripe_store
from services.billing.store import tenants as store
from services.billing.store import usage as usage_store
from services.billing.views import api_key_view, tenant_view, webhook_view

Update = Callable[[Tenant], dict[str, object]]  # a tenant's locked row -> the fields to change


class Accounts:
    """The operator's use cases on tenants."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt

    async def create(self, spec: TenantSpec) -> TenantCreated:
        """Create a tenant with a first webhook and API key, shown this once."""
        now = self._rt.now()
        tenant = Tenant(
            tenant_id=new_tenant_id(),
            name=spec.name,
            lifecycle=Lifecycle.ACTIVE,
            plan=spec.plan or self._rt.settings.default_plan,
            created_at=now,
            updated_at=now,
        )
        async with self._rt.engine.begin() as conn:
            plans = await self._rt.plans(conn, tenant.plan)
            await store.insert_tenant(conn, tenant)
            key, key_secret = await add_api_key(conn, tenant.tenant_id, spec.api_key_label, now)
            hook = (
                await add_webhook(conn, tenant.tenant_id, spec.webhook, now)
                if spec.webhook
                else None
            )
        changes = [self._rt.tenant_change(tenant, plans), api_key_change(key, now)]
        changes += [token_change(hook[0], hook[1], now)] if hook else []
        await publish_new(self._rt, changes, partial(forget_created, tenant.tenant_id))
        return TenantCreated(
            tenant=tenant_view(tenant, plans, self._rt.settings.fallback_plan),
            webhook=self._webhook_created(hook, now),
            api_key=ApiKeyCreated(api_key=api_key_view(key, now), key=key_secret),
        )

    def _webhook_created(
        self, hook: tuple[Webhook, WebhookToken, str] | None, now: datetime
    ) -> WebhookCreated | None:
        if hook is None:
            return None
        webhook, token, secret = hook
        return WebhookCreated(
            webhook=webhook_view(webhook, [token], now),
            token=secret,
            url=webhook_url(self._rt.settings.public_base_url, secret),
        )

    async def get(self, tenant_id: str) -> TenantView:
        """Return a tenant, deleted ones included."""
        async with self._rt.engine.connect() as conn:
            tenant = await store.get_tenant(conn, tenant_id)
            if tenant is None:
                raise NotFoundError(f"There is no tenant {tenant_id}.")
            plans = await self._rt.plans(conn)
        return tenant_view(tenant, plans, self._rt.settings.fallback_plan)

    async def page(self, *, include_deleted: bool, after: str | None, limit: int) -> TenantPage:
        """Return a page of tenants in creation order."""
        async with self._rt.engine.connect() as conn:
            found = await store.list_tenants(
                conn, include_deleted=include_deleted, after=after, limit=limit
            )
            plans = await self._rt.plans(conn)
        fallback = self._rt.settings.fallback_plan
        return TenantPage(
            tenants=[tenant_view(t, plans, fallback) for t in found],
            next_after=found[-1].tenant_id if len(found) == limit else None,
        )

    async def plans(self) -> list[PlanView]:
        """Return every plan and its limits."""
        async with self._rt.engine.connect() as conn:
            plans = await self._rt.plans(conn)
        return [PlanView(name=name, limits=limits) for name, limits in sorted(plans.items())]

    async def suspend(self, tenant_id: str) -> TenantView:
        """Stop the tenant's webhooks and API keys (403) within 2 seconds; nothing is lost."""
        return await self._change(tenant_id, _moved_to(Lifecycle.SUSPENDED))

    async def resume(self, tenant_id: str) -> TenantView:
        """Let a suspended tenant work again."""
        return await self._change(tenant_id, _moved_to(Lifecycle.ACTIVE))

    async def set_plan(self, tenant_id: str, change: PlanChange) -> TenantView:
        """Put the tenant on a plan, with overrides of single limits (replacing earlier ones)."""
        update = {"plan": change.plan, "overrides": change.overrides}
        return await self._change(tenant_id, lambda _tenant: update, change.plan)

    async def _change(self, tenant_id: str, update: Update, *plans_needed: str) -> TenantView:
        async with self._rt.engine.begin() as conn:
            plans = await self._rt.plans(conn, *plans_needed)
            tenant = await self._rt.locked_tenant(conn, tenant_id)
            tenant = tenant.model_copy(update={**update(tenant), "updated_at": self._rt.now()})
            await store.save_tenant(conn, tenant)
        await self._rt.publish([self._rt.tenant_change(tenant, plans)])
        return tenant_view(tenant, plans, self._rt.settings.fallback_plan)

    async def delete(self, tenant_id: TenantId) -> None:
        """Delete a tenant: its webhooks, keys and record leave the buckets within 2 s, then
        ``tenant.deleted`` tells the executor to purge its exchange accounts and their keys
        (owed from the commit on: `services.billing.deletions`)."""
        now = self._rt.now()
        async with self._rt.engine.begin() as conn:
            tenant = await store.get_tenant(conn, tenant_id, for_update=True)
            if tenant is None:
                raise NotFoundError(f"There is no tenant {tenant_id}.")
            tenant = tenant.model_copy(
                update={
                    "lifecycle": move(tenant.lifecycle, Lifecycle.DELETED),
                    "updated_at": now,
                    "deleted_at": now,
                }
            )
            tokens, keys = await credential_store.revoke_all(conn, tenant_id, now)
            if self._rt.settings.deleted_tenant_data is DeletedTenantData.PURGE:
                tenant = tenant.model_copy(update={"name": ""})
                await _purge(conn, tenant_id)
            await store.save_tenant(conn, tenant)
            await store.owe_deletion_notice(conn, tenant_id)
        await self._rt.publish(_deletions(tenant_id, tokens, keys))
        await deletions.announce(self._rt, tenant_id, now)


def _moved_to(target: Lifecycle) -> Update:
    """Return the change that moves a tenant to ``target``, if its lifecycle allows it."""
    return lambda tenant: {"lifecycle": move(tenant.lifecycle, target)}


async def forget_created(tenant_id: str, conn: AsyncConnection) -> None:
    """Undo a tenant's creation: remove its rows as if it never existed."""
    await credential_store.purge(conn, tenant_id)
    await store.delete_tenant_row(conn, tenant_id)


async def _purge(conn: AsyncConnection, tenant_id: str) -> None:
    """Delete what billing's schema holds about a tenant but its tombstone row."""
    await credential_store.purge(conn, tenant_id)
    await usage_store.purge(conn, tenant_id)
    await stripe_store.purge(conn, tenant_id)


def _deletions(tenant_id: str, tokens: Sequence[str], keys: Sequence[str]) -> list[KvChange]:
    return [
        *(KvChange.delete(Bucket.WEBHOOK_TOKENS, digest) for digest in tokens),
        *(KvChange.delete(Bucket.API_KEYS, digest) for digest in keys),
        KvChange.delete(Bucket.TENANTS, tenant_id),
    ]

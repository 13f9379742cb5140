"""The long-lived object: what billing's use cases share (settings, Postgres, the KV buckets,
events and the clock), built once in the app's lifespan, and the bucket writes they publish."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.common.records import PlanLimits
from services.billing.adapters.events import EventPublisher
from services.billing.adapters.kv import Bucket, KvChange, KvStore
from services.billing.config import BillingSettings
from services.billing.domain.credentials import (
    ApiKey,
    Webhook,
    WebhookToken,
    api_key_record,
    token_record,
    usable,
)
from services.billing.domain.plans import Tenant, tenant_record
from services.billing.errors import ConflictError, InvalidRequestError, NotFoundError
from services.billing.metrics import KV_PUBLISH_FAILURES
from services.billing.store import tenants as tenant_store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Runtime:
    """What every use case holds; the clock is injectable for tests."""

    settings: BillingSettings
    engine: AsyncEngine
    kv: KvStore
    events: EventPublisher
    clock: Callable[[], datetime]

    def now(self) -> datetime:
        return self.clock()

    async def plans(self, conn: AsyncConnection, *required: str) -> dict[str, PlanLimits]:
        """Return every plan; raise `InvalidRequestError` if one of ``required`` is unknown."""
        plans = await tenant_store.load_plans(conn)
        for name in required:
            if name not in plans:
                known = ", ".join(sorted(plans))
                raise InvalidRequestError(f"There is no plan {name!r}; the plans are {known}.")
        return plans

    async def locked_tenant(self, conn: AsyncConnection, tenant_id: str) -> Tenant:
        """Return the tenant, its row locked until commit; refuse unknown or deleted ones."""
        tenant = await tenant_store.get_tenant(conn, tenant_id, for_update=True)
        if tenant is None:
            raise NotFoundError(f"There is no tenant {tenant_id}.")
        if tenant.deleted:
            raise ConflictError(f"Tenant {tenant_id} was deleted; it cannot be changed.")
        return tenant

    def tenant_change(self, tenant: Tenant, plans: dict[str, PlanLimits]) -> KvChange:
        """Return the write that makes the ``tenants`` bucket match ``tenant``."""
        record = tenant_record(tenant, plans, self.settings.fallback_plan)
        if record is None:
            return KvChange.delete(Bucket.TENANTS, tenant.tenant_id)
        return KvChange.put(Bucket.TENANTS, tenant.tenant_id, record)

    async def publish(self, changes: Sequence[KvChange]) -> None:
        """Write ``changes`` to the buckets (after the commit); raise `PublishError`."""
        try:
            await self.kv.apply(changes)
        except Exception:
            KV_PUBLISH_FAILURES.inc()
            log.warning("KV publish failed; reconciliation will repair it", exc_info=True)
            raise


def token_change(webhook: Webhook, token: WebhookToken, now: datetime) -> KvChange:
    """Return the write that makes the ``webhook-tokens`` bucket match one token."""
    if webhook.revoked_at is None and usable(token.revoked_at, token.expires_at, now):
        return KvChange.put(Bucket.WEBHOOK_TOKENS, token.digest, token_record(webhook, token))
    return KvChange.delete(Bucket.WEBHOOK_TOKENS, token.digest)


def api_key_change(key: ApiKey, now: datetime) -> KvChange:
    """Return the write that makes the ``api-keys`` bucket match one key."""
    if usable(key.revoked_at, key.expires_at, now):
        return KvChange.put(Bucket.API_KEYS, key.digest, api_key_record(key))
    return KvChange.delete(Bucket.API_KEYS, key.digest)

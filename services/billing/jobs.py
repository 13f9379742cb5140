"""Periodic work: lapse tenants past their grace period, retire rotated-away secrets, announce
owed tenant deletions and payment notices (a failed payment, a grace period ending within a
day), and reconcile the KV buckets with Postgres. Each step is a method tests
call with their clock.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable

from services.billing import deletions, notices
from services.billing.adapters.kv import Bucket, KvChange
from services.billing.domain.subscriptions import lapse
from services.billing.runtime import Runtime
from services.billing.store import credentials as credential_store
from services.billing.store import tenants as tenant_store
from services.billing.sync import ReconcileReport, reconcile

log = logging.getLogger(__name__)


class Maintenance:
    """The jobs billing runs in the background."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt

    async def lapse_expired_grace(self) -> list[str]:
        """Move tenants whose grace period is over to the fallback plan's limits; return them."""
        now = self._rt.now()
        async with self._rt.engine.begin() as conn:
            lapsed = [lapse(t, now) for t in await tenant_store.tenants_past_grace(conn, now)]
            for tenant in lapsed:
                await tenant_store.save_tenant(conn, tenant)
            plans = await self._rt.plans(conn)
        if lapsed:
            log.info("grace periods ended", extra={"tenants": len(lapsed)})
            await self._rt.publish([self._rt.tenant_change(t, plans) for t in lapsed])
        return [t.tenant_id for t in lapsed]

    async def retire_expired_secrets(self) -> int:
        """Delete rotated-away tokens and keys whose grace is over from their buckets."""
        now = self._rt.now()
        async with self._rt.engine.connect() as conn:
            tokens = await credential_store.expired_tokens(conn, now)
            keys = await credential_store.expired_api_keys(conn, now)
        if not tokens and not keys:
            return 0
        await self._rt.publish(
            [KvChange.delete(Bucket.WEBHOOK_TOKENS, t.digest) for t in tokens]
            + [KvChange.delete(Bucket.API_KEYS, k.digest) for k in keys]
        )
        async with self._rt.engine.begin() as conn:  # only once the buckets forgot them
            for t in tokens:
                await credential_store.end_token(
                    conn, t.digest, expires_at=t.expires_at, revoked_at=t.expires_at
                )
            for k in keys:
                await credential_store.end_api_key(
                    conn, k.key_id, expires_at=k.expires_at, revoked_at=k.expires_at
                )
        return len(tokens) + len(keys)

    async def announce_deletions(self) -> int:
        """Publish every ``tenant.deleted`` still owed (a crash or outage after the deletion)."""
        return await deletions.announce_owed(self._rt)

    async def announce_payment_notices(self) -> int:
        """Publish ``billing.payment_failed`` still owed and ``billing.grace_ending`` now due."""
        return await notices.announce_owed(self._rt)

    async def reconcile(self) -> ReconcileReport:
        """Make the buckets match Postgres."""
        return await reconcile(self._rt)

    async def run_forever(self) -> None:
        """Run the expiry jobs every few seconds and reconciliation every minute, forever."""
        settings = self._rt.settings
        next_reconcile = time.monotonic() + settings.reconcile_interval_s
        while True:
            await asyncio.sleep(settings.maintenance_interval_s)
            await self._guarded(self.lapse_expired_grace())
            await self._guarded(self.retire_expired_secrets())
            await self._guarded(self.announce_deletions())
            await self._guarded(self.announce_payment_notices())
            if time.monotonic() >= next_reconcile:
                await self._guarded(self.reconcile())
                next_reconcile = time.monotonic() + settings.reconcile_interval_s

    @staticmethod
    async def _guarded(job: Awaitable[object]) -> None:
        try:
            await job
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background job failed; it runs again on the next tick")

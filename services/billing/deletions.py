"""``tenant.deleted``: owed from a deletion's commit until JetStream stored it.

The deletion's transaction records the notice as owed (``deletion_announced_at`` NULL); the
request publishes it once the buckets forgot the tenant, then records it sent. A crash or a
NATS outage in between leaves it owed, and the maintenance job publishes it within seconds.
So the event may be published more than once (the same message id each time, dropped by
JetStream within its duplicate window): its consumers purge idempotently.

Delete markers in the ``tenants`` bucket are no substitute: reconciliation deletes any key
Postgres does not know, so a missing record proves nothing about a deletion.
"""

from __future__ import annotations

import logging
from datetime import datetime

from libs.common.ids import TenantId
from libs.common.messages import TenantDeleted
from services.billing.adapters.kv import Bucket, KvChange
from services.billing.runtime import Runtime
from services.billing.store import tenants as store

log = logging.getLogger(__name__)
BATCH = 100


async def announce(rt: Runtime, tenant_id: TenantId, deleted_at: datetime | None) -> None:
    """Publish the tenant's ``tenant.deleted`` and record it sent; raise `PublishError`."""
    await rt.events.publish(TenantDeleted.of(tenant_id, deleted_at or rt.now()))
    async with rt.engine.begin() as conn:
        await store.deletion_announced(conn, tenant_id, deleted_at, rt.now())
    log.info("tenant deletion announced", extra={"tenant_id": tenant_id})


async def announce_owed(rt: Runtime) -> int:
    """Publish every owed ``tenant.deleted`` (a batch per call); return how many were sent.

    The tenant's record leaves the ``tenants`` bucket first: consumers refuse to purge a
    tenant that bucket still shows.
    """
    async with rt.engine.connect() as conn:
        owed = await store.deletion_notices_owed(conn, BATCH)
    if not owed:
        return 0
    await rt.publish([KvChange.delete(Bucket.TENANTS, tenant_id) for tenant_id, _ in owed])
    for tenant_id, deleted_at in owed:
        await announce(rt, tenant_id, deleted_at)
    return len(owed)

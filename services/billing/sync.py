"""Make the KV buckets match Postgres: at start-up (a wiped NATS) and every minute.

Order matters: read the buckets first, then Postgres, then write each difference only if
the key is still at the revision read. A change made meanwhile by a request (committed to
Postgres, then written to the bucket) either shows in the Postgres read or moves the key's
revision, so reconciliation never puts back a value a request just replaced or revoked.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.common.records import ApiKeyRecord, TenantRecord, WebhookTokenRecord
from services.billing.adapters.kv import Bucket, KvChange, KvEntry
from services.billing.domain.credentials import api_key_record, token_record
from services.billing.domain.plans import tenant_record
from services.billing.metrics import RECONCILE_REPAIRS
from services.billing.runtime import Runtime
from services.billing.store import credentials as credential_store
from services.billing.store import tenants as tenant_store

log = logging.getLogger(__name__)

RECORD_TYPES: dict[Bucket, type[BaseModel]] = {
    Bucket.TENANTS: TenantRecord,
    Bucket.WEBHOOK_TOKENS: WebhookTokenRecord,
    Bucket.API_KEYS: ApiKeyRecord,
}


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """What one reconciliation wrote: puts, deletes, and writes skipped for a newer change."""

    written: int = 0
    deleted: int = 0
    skipped: int = 0


async def desired_state(
    conn: AsyncConnection, fallback_plan: str, now: datetime
) -> dict[Bucket, dict[str, BaseModel]]:
    """Return what each bucket should hold according to Postgres at ``now``."""
    plans = await tenant_store.load_plans(conn)
    everyone = await tenant_store.list_tenants(conn, include_deleted=False, after=None, limit=None)
    tenants = {t.tenant_id: tenant_record(t, plans, fallback_plan) for t in everyone}
    tokens = {
        token.digest: token_record(hook, token)
        for hook, token in await credential_store.live_tokens(conn, now)
    }
    keys = {k.digest: api_key_record(k) for k in await credential_store.live_api_keys(conn, now)}
    return {
        Bucket.TENANTS: {k: v for k, v in tenants.items() if v is not None},
        Bucket.WEBHOOK_TOKENS: dict(tokens),
        Bucket.API_KEYS: dict(keys),
    }


def differences(
    bucket: Bucket, current: Mapping[str, KvEntry], desired: Mapping[str, BaseModel]
) -> list[tuple[KvChange, int]]:
    """Return the writes (with the revision each expects) that turn ``current`` into
    ``desired``: put what is missing or different, delete what Postgres does not know.
    """
    model = RECORD_TYPES[bucket]
    changes = [
        (KvChange.put(bucket, key, record), entry.revision if entry else 0)
        for key, record in desired.items()
        if (entry := current.get(key)) is None or _decoded(model, entry) != record
    ]
    changes += [
        (KvChange.delete(bucket, key), entry.revision)
        for key, entry in current.items()
        if entry.value is not None and key not in desired
    ]
    return changes


def _decoded(model: type[BaseModel], entry: KvEntry) -> BaseModel | None:
    if entry.value is None:
        return None
    try:
        return model.model_validate_json(entry.value)
    except ValidationError:
        return None  # a value nobody can read: overwrite it


async def reconcile(rt: Runtime) -> ReconcileReport:
    """Bring every bucket in line with Postgres; return what it changed."""
    await rt.kv.ensure_buckets()
    current = {bucket: await rt.kv.snapshot(bucket) for bucket in Bucket}
    async with rt.engine.connect() as conn:
        desired = await desired_state(conn, rt.settings.fallback_plan, rt.now())
    done = {"put": 0, "delete": 0, "skipped": 0}
    for bucket in Bucket:
        for change, revision in differences(bucket, current[bucket], desired[bucket]):
            action = "delete" if change.value is None else "put"
            if not await rt.kv.write_if(change, revision):
                action = "skipped"  # changed since we read it: the newer write stands
            else:
                RECONCILE_REPAIRS.labels(bucket.value, action).inc()
            done[action] += 1
    report = ReconcileReport(done["put"], done["delete"], done["skipped"])
    if report.written or report.deleted:
        log.info("KV buckets repaired from Postgres", extra={"report": str(report)})
    return report

"""Reconciliation writes exactly the differences, each guarded by the revision it read."""

from __future__ import annotations

from libs.common.records import TenantStatus
from services.billing.adapters.kv import Bucket, KvChange, KvEntry
from services.billing.sync import differences
from tests import factories

TENANT = factories.tenant_record("t1")


def test_a_bucket_that_matches_needs_no_write() -> None:
    current = {"t1": KvEntry(7, TENANT.model_dump_json().encode())}
    assert differences(Bucket.TENANTS, current, {"t1": TENANT}) == []


def test_missing_changed_and_unreadable_values_are_put_at_their_revision() -> None:
    suspended = TENANT.model_copy(update={"status": TenantStatus.SUSPENDED})
    t2, t3, t4 = (factories.tenant_record(t) for t in ("t2", "t3", "t4"))
    current = {
        "t1": KvEntry(3, suspended.model_dump_json().encode()),
        "t3": KvEntry(5, b"not json"),
        "t4": KvEntry(9, None),  # deleted: recreated at the delete marker's revision
    }
    desired = {"t1": TENANT, "t2": t2, "t3": t3, "t4": t4}
    changes = differences(Bucket.TENANTS, current, desired)
    assert [(c.key, rev) for c, rev in changes] == [("t1", 3), ("t2", 0), ("t3", 5), ("t4", 9)]
    assert changes[1][0] == KvChange.put(Bucket.TENANTS, "t2", t2)


def test_keys_postgres_does_not_know_are_deleted_at_their_revision() -> None:
    current = {"stale": KvEntry(4, b"{}"), "gone": KvEntry(6, None)}
    assert differences(Bucket.API_KEYS, current, {}) == [
        (KvChange.delete(Bucket.API_KEYS, "stale"), 4)
    ]

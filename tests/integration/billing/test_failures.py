"""When NATS is down: nothing half-created, changes saved and repaired once it is back."""

from __future__ import annotations

import nats

from libs.common.records import TenantRecord, TenantStatus
from libs.common.topology import Topology
from tests.helpers.billing import OPERATOR, Billing
from tests.helpers.polling import eventually
from tests.helpers.ports import PrivateNats


async def bucket_keys(url: str, bucket: str) -> list[str]:
    nc = await nats.connect(url)
    try:
        return await (await nc.jetstream().key_value(bucket)).keys()
    finally:
        await nc.close()


async def tenant_record(url: str, topology: Topology, tenant_id: str) -> TenantRecord:
    nc = await nats.connect(url)
    try:
        entry = await (await nc.jetstream().key_value(topology.tenants_bucket)).get(tenant_id)
    finally:
        await nc.close()
    assert entry.value is not None
    return TenantRecord.model_validate_json(entry.value)


async def test_with_nats_down_nothing_is_half_created_and_changes_are_repaired_later(
    billing_on_private_nats: Billing, private_nats: PrivateNats, topology: Topology
) -> None:
    billing = billing_on_private_nats
    tenant_id = (await billing.create_tenant())["tenant"]["tenant_id"]
    private_nats.stop()

    refused = await billing.http.post("/api/v1/tenants", json={"name": "Bob"}, headers=OPERATOR)
    assert refused.status_code == 503
    assert refused.json()["error"].startswith("Nothing was created")
    listed = await billing.http.get("/api/v1/tenants", headers=OPERATOR)
    assert [t["tenant_id"] for t in listed.json()["tenants"]] == [tenant_id]

    suspended = await billing.http.post(f"/api/v1/tenants/{tenant_id}/suspend", headers=OPERATOR)
    assert suspended.status_code == 503
    assert "saved but not yet in effect" in suspended.json()["error"]
    assert suspended.headers["Retry-After"] == "5"
    shown = await billing.http.get(f"/api/v1/tenants/{tenant_id}", headers=OPERATOR)
    assert shown.json()["status"] == "suspended"

    private_nats.start()

    async def ready() -> bool:
        return (await billing.http.get("/readyz")).status_code == 200

    await eventually(ready, what="billing ready again", timeout_s=15)
    # The client may flush what it buffered while disconnected; reconciliation does the rest.
    await billing.jobs.reconcile()
    assert await bucket_keys(private_nats.url, topology.tenants_bucket) == [tenant_id]
    record = await tenant_record(private_nats.url, topology, tenant_id)
    assert record.status is TenantStatus.SUSPENDED

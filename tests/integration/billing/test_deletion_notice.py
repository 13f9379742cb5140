"""A deleted tenant is announced on EVENTS (``tenant.deleted``) once JetStream stored it; a
deletion whose announcement could not be published stays owed and is published later.
"""

from __future__ import annotations

from datetime import datetime

import nats

from libs.common.messages import TenantDeleted
from libs.common.topology import Topology
from services.billing.config import BillingSettings
from tests.helpers.billing import OPERATOR, Billing
from tests.helpers.executor import stored_events
from tests.helpers.polling import eventually
from tests.helpers.ports import PrivateNats


async def deletions_on(url: str, topology: Topology, tenant_id: str) -> list[TenantDeleted]:
    """Return the tenant.deleted events the EVENTS stream of the server at ``url`` holds."""
    nc = await nats.connect(url)
    try:
        events = await stored_events(nc.jetstream(), topology, tenant_id)
    finally:
        await nc.close()
    return [e for e in events if isinstance(e, TenantDeleted)]


async def test_deleting_a_tenant_announces_it_once_on_its_events_subject(
    billing: Billing, billing_settings: BillingSettings, topology: Topology
) -> None:
    tenant_id = (await billing.create_tenant())["tenant"]["tenant_id"]
    deleted = await billing.http.delete(f"/api/v1/tenants/{tenant_id}", headers=OPERATOR)
    assert deleted.status_code == 204

    url = billing_settings.nats_url
    (event,) = await deletions_on(url, topology, tenant_id)
    shown = (await billing.http.get(f"/api/v1/tenants/{tenant_id}", headers=OPERATOR)).json()
    assert event.deleted_at == datetime.fromisoformat(shown["deleted_at"])
    assert await billing.jobs.announce_deletions() == 0  # nothing owed: not published again
    assert len(await deletions_on(url, topology, tenant_id)) == 1


async def test_a_deletion_made_while_nats_is_down_is_announced_once_nats_is_back(
    billing_on_private_nats: Billing, private_nats: PrivateNats, topology: Topology
) -> None:
    billing = billing_on_private_nats
    tenant_id = (await billing.create_tenant())["tenant"]["tenant_id"]
    private_nats.stop()

    deleted = await billing.http.delete(f"/api/v1/tenants/{tenant_id}", headers=OPERATOR)
    assert deleted.status_code == 503
    assert "saved but not yet in effect" in deleted.json()["error"]
    shown = await billing.http.get(f"/api/v1/tenants/{tenant_id}", headers=OPERATOR)
    assert shown.json()["status"] == "deleted"

    private_nats.start()

    async def ready() -> bool:
        return (await billing.http.get("/readyz")).status_code == 200

    await eventually(ready, what="billing ready again", timeout_s=15)
    assert await billing.jobs.announce_deletions() == 1
    assert await billing.jobs.announce_deletions() == 0
    (event,) = await deletions_on(private_nats.url, topology, tenant_id)
    assert event.tenant_id == tenant_id

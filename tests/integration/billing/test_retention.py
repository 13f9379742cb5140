"""``deleted_tenant_data: purge`` deletes what billing's schema holds about a tenant."""

from __future__ import annotations

import pytest

from libs.common.ids import new_id, new_intent_id
from libs.common.messages import Action, IntentAccepted
from services.billing.config import BillingSettings, DeletedTenantData
from tests import factories
from tests.helpers.billing import OPERATOR, Billing


@pytest.fixture
def billing_settings(billing_settings: BillingSettings) -> BillingSettings:
    return billing_settings.model_copy(update={"deleted_tenant_data": DeletedTenantData.PURGE})


async def test_a_purged_tenant_keeps_only_its_tombstone(billing: Billing) -> None:
    tenant_id = (await billing.create_tenant(name="Ada"))["tenant"]["tenant_id"]
    intent = new_intent_id()
    accepted = IntentAccepted(
        **factories.envelope(tenant_id, intent),
        intent_id=intent,
        webhook_id=new_id(),
        action=Action.BUY,
        symbol="BTCUSDT",
        received_at=factories.T0,
        occurred_at=factories.T0,
    )
    assert await billing.app.state.services.usage.record(accepted.to_json())
    params = {"from": factories.T0.date().isoformat(), "to": factories.T0.date().isoformat()}
    usage = f"/api/v1/tenants/{tenant_id}/usage"
    assert len((await billing.http.get(usage, params=params, headers=OPERATOR)).json()) == 1

    await billing.http.delete(f"/api/v1/tenants/{tenant_id}", headers=OPERATOR)
    assert (await billing.http.get(usage, params=params, headers=OPERATOR)).json() == []
    hooks = await billing.http.get(f"/api/v1/tenants/{tenant_id}/webhooks", headers=OPERATOR)
    assert hooks.json() == []
    tombstone = (await billing.http.get(f"/api/v1/tenants/{tenant_id}", headers=OPERATOR)).json()
    assert (tombstone["status"], tombstone["name"]) == ("deleted", "")

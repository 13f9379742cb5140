"""Traders change their trade settings through the API; every change is kept and applied."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

from libs.common.ids import new_id, partition
from libs.common.messages import RejectReason
from libs.common.topology import Topology
from tests import factories
from tests.helpers.polling import eventually
from tests.helpers.router import Bus, account, intent
from tests.integration.router.harness import API_KEY, ApiOpener, Starter

TENANT = "tenant-a"


async def _tenant_with_key(bus: Bus, tenant: str = TENANT, key: str = API_KEY) -> str:
    record = factories.api_key_record(tenant)
    await bus.put_tenant(factories.tenant_record(tenant))
    await bus.put_api_key(key, record)
    await bus.put_account(account(tenant))
    return record.key_id


async def test_every_change_is_kept_with_who_when_and_old_to_new(
    open_api: ApiOpener, bus: Bus
) -> None:
    key_id = await _tenant_with_key(bus)
    api = (await open_api()).client
    first = await api.put("/api/v1/settings/tenant", json={"quantity": "0.02"})
    assert first.status_code == 200, first.text
    assert (first.json()["version"], first.json()["old"]) == (1, None)
    between = datetime.now(UTC)
    await asyncio.sleep(0.01)  # the next change gets a later timestamp than `between`
    second = await api.put("/api/v1/settings/tenant", json={"quantity": "0.03", "leverage": 2})
    assert second.json()["version"] == 2
    history = (await api.get("/api/v1/settings/history")).json()
    assert [(h["version"], h["changed_by"]) for h in history] == [(2, key_id), (1, key_id)]
    assert history[0]["old"] == {"quantity": "0.02"}
    assert history[0]["new"] == {"quantity": "0.03", "leverage": "2"}
    then = await api.get("/api/v1/settings/effective", params={"at": between.isoformat()})
    assert then.json()["settings"]["quantity"] == "0.02"
    now = await api.get("/api/v1/settings/effective", params={"account": "main"})
    assert now.json()["settings"]["quantity"] == "0.03"
    assert now.json()["layers"] == ["tenant"]


async def test_invalid_settings_are_refused_field_by_field_and_nothing_is_saved(
    open_api: ApiOpener, bus: Bus
) -> None:
    await _tenant_with_key(bus)
    api = (await open_api()).client
    bad = await api.put(
        "/api/v1/settings/accounts/main", json={"quantity": "-1", "directions": "sideways"}
    )
    assert bad.status_code == 422
    fields = {e["field"]: e["message"] for e in bad.json()["errors"]}
    assert "greater than 0" in fields["quantity"]
    assert "long_only" in fields["directions"]
    assert bad.json()["error"].startswith("Invalid request: quantity")
    misplaced = await api.put("/api/v1/settings/accounts/main", json={"default_account": "x"})
    assert misplaced.status_code == 422
    assert "tenant-wide" in misplaced.json()["error"]
    assert (await api.get("/api/v1/settings/accounts/main")).status_code == 404
    assert (await api.get("/api/v1/settings/history")).json() == []


async def test_a_stale_version_is_refused_and_a_deleted_layer_is_inherited_again(
    open_api: ApiOpener, bus: Bus
) -> None:
    await _tenant_with_key(bus)
    api = (await open_api()).client
    path = "/api/v1/settings/accounts/main/symbols/btcusdt"
    assert (await api.put(path, json={"max_order_base": "0.5"})).json()["version"] == 1
    stale = await api.put(path, json={"max_order_base": "1"}, headers={"If-Match": '"0"'})
    assert stale.status_code == 412
    assert "changed since you read them" in stale.json()["error"]
    fresh = await api.put(path, json={"max_order_base": "1"}, headers={"If-Match": '"1"'})
    assert fresh.json()["symbol"] == "BTCUSDT"
    assert (await api.delete(path)).status_code == 204
    assert (await api.get(path)).status_code == 404
    assert (await api.delete(path)).status_code == 404
    query = {"account": "main", "symbol": "BTCUSDT"}
    history = (await api.get("/api/v1/settings/history", params=query)).json()
    assert [h["version"] for h in history] == [3, 2, 1]
    assert history[0]["new"] is None


async def test_the_api_needs_a_valid_key(open_api: ApiOpener, bus: Bus) -> None:
    await _tenant_with_key(bus)
    api = (await open_api()).client
    anonymous = await api.get("/api/v1/settings", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    wrong = await api.get("/api/v1/settings", headers={"Authorization": "Bearer spk_" + "x" * 40})
    assert wrong.status_code == 401


def _tenant_in_replica(index: int, topology: Topology) -> str:
    while True:
        tenant = new_id()
        if partition(tenant, topology.partitions) % 2 == index:
            return tenant


async def test_a_settings_change_applies_to_the_next_intent_on_both_replicas(
    open_api: ApiOpener, start_router: Starter, bus: Bus, topology: Topology
) -> None:
    tenants = [_tenant_in_replica(0, topology), _tenant_in_replica(1, topology)]
    keys = {tenant: "spk_" + tenant.lower() + "k" * 10 for tenant in tenants}
    for tenant in tenants:
        await _tenant_with_key(bus, tenant, keys[tenant])
    api = await open_api(replica_index=0, replica_count=2)
    other = await start_router(replica_index=1, replica_count=2)

    async def set_quantity(tenant: str, quantity: str) -> str:
        auth = {"Authorization": f"Bearer {keys[tenant]}"}
        answer = await api.client.put(
            "/api/v1/settings/tenant", json={"quantity": quantity}, headers=auth
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["id"])

    for tenant in tenants:
        await set_quantity(tenant, "0.05")
        await bus.publish(intent(tenant, quantity=None))  # loads each replica's cache
    warm = await bus.orders(2)
    assert {o.sizing.value for o in warm} == {Decimal("0.05")}
    versions = {tenant: await set_quantity(tenant, "0.07") for tenant in tenants}
    mirrors = [runtime.mirrors for runtime in (api.runtime, other)]
    await eventually(
        lambda: all(
            m is not None and m.versions.get(t) == v for m in mirrors for t, v in versions.items()
        ),
        what="the change in every replica's mirror",
        timeout_s=2.0,
    )
    for tenant in tenants:
        await bus.publish(intent(tenant, quantity=None))
    changed = (await bus.orders(4))[2:]
    assert {(o.tenant_id, o.sizing.value) for o in changed} == {
        (tenant, Decimal("0.07")) for tenant in tenants
    }


async def test_a_paused_strategy_is_refused_by_name_and_trades_again_once_resumed(
    open_api: ApiOpener, bus: Bus
) -> None:
    await _tenant_with_key(bus)
    opened = await open_api()
    api = opened.client
    paused = await api.put("/api/v1/settings/tenant", json={"paused_strategies": ["Breakout"]})
    assert paused.status_code == 200, paused.text
    shown = (await api.get("/api/v1/settings/tenant")).json()
    assert shown["settings"]["paused_strategies"] == ["Breakout"]
    mirror = opened.runtime.mirrors
    assert mirror is not None
    await eventually(
        lambda: mirror.versions.get(TENANT) == str(paused.json()["id"]),
        what="the paused settings in the router's mirror",
        timeout_s=5.0,
    )
    await bus.publish(intent(TENANT, strategy="Breakout"))
    (rejected,) = await bus.rejections(1)
    assert rejected.reason is RejectReason.STRATEGY_PAUSED
    assert "Strategy Breakout is paused" in rejected.message
    resumed = await api.put("/api/v1/settings/tenant", json={"paused_strategies": []})
    assert resumed.status_code == 200, resumed.text
    await eventually(
        lambda: mirror.versions.get(TENANT) == str(resumed.json()["id"]),
        what="the resumed settings in the router's mirror",
        timeout_s=5.0,
    )
    await bus.publish(intent(TENANT, strategy="Breakout"))
    (order,) = await bus.orders(1)
    assert order.tenant_id == TENANT


async def test_paused_strategies_must_be_printable_names_set_tenant_wide(
    open_api: ApiOpener, bus: Bus
) -> None:
    await _tenant_with_key(bus)
    api = (await open_api()).client
    bad = await api.put("/api/v1/settings/tenant", json={"paused_strategies": ["a\u0007b"]})
    assert bad.status_code == 422
    assert "paused_strategies" in bad.json()["error"]
    misplaced = await api.put("/api/v1/settings/accounts/main", json={"paused_strategies": ["a"]})
    assert misplaced.status_code == 422
    assert "tenant-wide" in misplaced.json()["error"]

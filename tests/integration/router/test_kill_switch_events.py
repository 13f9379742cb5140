"""A change of a kill switch through the settings API is announced on EVENTS exactly once."""

from __future__ import annotations

from datetime import UTC, datetime

from nats.js import JetStreamContext

from libs.common.messages import KillSwitchChanged
from libs.common.topology import Topology
from services.router.store.records import LayerKey
from tests import factories
from tests.helpers.executor import stored_events
from tests.helpers.router import Bus, account, layer
from tests.integration.router.harness import API_KEY, ApiOpener

TENANT = "tenant-a"
TENANT_PATH = "/api/v1/settings/tenant"
ACCOUNT_PATH = "/api/v1/settings/accounts/main"
SYMBOL_PATH = "/api/v1/settings/accounts/main/symbols/btcusdt"


async def _tenant_with_key(bus: Bus) -> None:
    await bus.put_tenant(factories.tenant_record(TENANT))
    await bus.put_api_key(API_KEY, factories.api_key_record(TENANT))
    await bus.put_account(account(TENANT))


async def _switches(js: JetStreamContext, topology: Topology) -> list[tuple[object, ...]]:
    events = await stored_events(js, topology, TENANT)
    switches = [e for e in events if isinstance(e, KillSwitchChanged)]
    assert switches == events
    return [(e.layer, e.account, e.symbol, e.enabled) for e in switches]


async def test_each_real_kill_switch_change_is_announced_once_and_no_op_changes_are_not(
    open_api: ApiOpener, bus: Bus, js: JetStreamContext, topology: Topology
) -> None:
    await _tenant_with_key(bus)
    api = (await open_api()).client
    steps = [
        ("put", TENANT_PATH, {"enabled": False}),  # off: announced
        ("put", TENANT_PATH, {"enabled": False, "quantity": "0.1"}),  # still off
        ("put", SYMBOL_PATH, {"enabled": True}),  # unset → true lets trade as before
        ("put", SYMBOL_PATH, {"max_order_base": "1"}),  # no kill switch at all
        ("put", ACCOUNT_PATH, {"enabled": False}),  # off: announced
        ("delete", ACCOUNT_PATH, None),  # the layer that said false is gone: on
        ("put", TENANT_PATH, {"quantity": "0.1"}),  # false dropped: on
        ("delete", SYMBOL_PATH, None),  # it said true: nothing moves
    ]
    for method, path, body in steps:
        answer = await api.request(method, path, json=body)
        assert answer.status_code in (200, 204), answer.text
    assert await _switches(js, topology) == [
        ("tenant", None, None, False),
        ("account", "main", None, False),
        ("account", "main", None, True),
        ("tenant", None, None, True),
    ]


async def test_a_symbol_switched_off_is_named_with_its_account_and_changed_by_the_api(
    open_api: ApiOpener, bus: Bus, js: JetStreamContext, topology: Topology
) -> None:
    await _tenant_with_key(bus)
    opened = await open_api()
    answer = await opened.client.put(SYMBOL_PATH, json={"enabled": False})
    assert answer.status_code == 200, answer.text
    (event,) = await stored_events(js, topology, TENANT)
    assert isinstance(event, KillSwitchChanged)
    assert (event.layer, event.account, event.symbol) == ("symbol", "main", "BTCUSDT")
    assert (event.enabled, event.changed_by, event.tenant_id) == (False, "api", TENANT)
    assert event.occurred_at.isoformat() == answer.json()["changed_at"].replace("Z", "+00:00")
    assert await opened.runtime.store.owed_notices() == []


async def test_a_change_committed_but_never_published_is_announced_later_once(
    open_api: ApiOpener, bus: Bus, js: JetStreamContext, topology: Topology
) -> None:
    await _tenant_with_key(bus)
    opened = await open_api(announce_interval_s=300)
    runtime = opened.runtime
    assert runtime.announcer is not None
    # The store commits the change as the API does; the process "dies" before publishing.
    change = await runtime.store.put(
        TENANT, LayerKey.tenant(), layer(enabled=False), by="k", now=datetime.now(UTC)
    )
    assert [change_id for change_id, _ in await runtime.store.owed_notices()] == [change.id]
    assert await stored_events(js, topology, TENANT) == []
    assert await runtime.announcer.announce_owed() == 1
    assert await runtime.announcer.announce_owed() == 0
    await runtime.announcer.announce(TENANT, change)  # a late second try: the same message
    assert await _switches(js, topology) == [("tenant", None, None, False)]
    assert await runtime.store.owed_notices() == []

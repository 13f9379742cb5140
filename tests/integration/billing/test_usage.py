"""Usage counted from EVENTS: exact per UTC day and month, however often events arrive."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from nats.js import JetStreamContext

from libs.common.ids import new_id
from libs.common.messages import (
    IntentAccepted,
    IntentRejected,
    OrderFailed,
    OrderFilled,
    OrderSubmitted,
)
from libs.common.messages.base import Message
from libs.common.topology import Topology
from services.billing.handlers import USAGE_CONSUMER
from tests import factories
from tests.helpers.billing import OPERATOR, Billing
from tests.helpers.polling import eventually

JAN_31 = datetime(2026, 1, 31, 23, 59, tzinfo=UTC)
FEB_1 = datetime(2026, 2, 1, 0, 1, tzinfo=UTC)


def events(tenant_id: str) -> list[Message]:
    """Alerts and orders of one tenant across a month boundary."""

    def env(at: datetime) -> dict[str, Any]:
        intent = new_id()
        return {**factories.envelope(tenant_id, intent), "intent_id": intent, "occurred_at": at}

    order = {"client_order_id": "sp-order-1", "account_label": "main", "exchange_id": "binance"}
    order |= {"symbol": "BTC/USDT", "side": "buy"}
    filled = {**order, "exchange_order_id": "1", "fills": [factories.fill()]}
    accepted = {"webhook_id": new_id(), "action": "buy", "symbol": "BTCUSDT", "received_at": JAN_31}
    submitted = {**order, "exchange_order_id": "1", "order_type": "market", "amount": "0.01"}
    return [
        IntentAccepted.model_validate(env(JAN_31) | accepted),
        IntentAccepted.model_validate(env(FEB_1) | accepted),
        IntentAccepted.model_validate(env(FEB_1) | accepted),
        IntentRejected.model_validate(env(FEB_1) | {"reason": "quota_exceeded", "message": "q"}),
        IntentRejected.model_validate(env(FEB_1) | {"reason": "kill_switch", "message": "off"}),
        OrderSubmitted.model_validate(env(FEB_1) | submitted | {"submitted_at": FEB_1}),
        OrderFilled.model_validate(env(FEB_1) | filled | {"complete": False}),
        OrderFilled.model_validate(env(FEB_1) | filled),  # the same order: counted once
        OrderFilled.model_validate(env(FEB_1) | filled | {"client_order_id": "sp-order-2"}),
        OrderFailed.model_validate(env(FEB_1) | order | {"reason": "down"}),  # counts nothing
    ]


async def publish_twice(js: JetStreamContext, topology: Topology, event: Message) -> None:
    """Store the event twice (as a redelivery after a crash would deliver it twice)."""
    subject = topology.event_subject(event.tenant_id, event.kind)  # type: ignore[attr-defined]
    for copy in ("a", "b"):
        await js.publish(
            subject, event.to_json(), headers={"Nats-Msg-Id": f"{event.message_id}{copy}"}
        )


async def settled(js: JetStreamContext, topology: Topology) -> bool:
    info = await js.consumer_info(topology.events_stream, USAGE_CONSUMER)
    return bool(info.num_pending == 0 and info.num_ack_pending == 0)


async def test_usage_counts_are_exact_after_duplicate_deliveries(
    billing: Billing, js: JetStreamContext, topology: Topology
) -> None:
    created = await billing.create_tenant()
    tenant_id = created["tenant"]["tenant_id"]
    for event in events(tenant_id):
        await publish_twice(js, topology, event)
    await eventually(lambda: settled(js, topology), what="settled(js, topology)", timeout_s=20)

    key = {"Authorization": f"Bearer {created['api_key']['key']}"}
    params = {"period": "month", "from": "2026-01-01", "to": "2026-02-28"}
    months = (await billing.http.get("/api/v1/usage", params=params, headers=key)).json()
    assert [(m["period_start"], m["alerts_accepted"]) for m in months] == [
        ("2026-01-01", 1),
        ("2026-02-01", 2),
    ]
    february = months[1]
    assert february["alerts_rejected"] == 2
    assert february["alerts_rejected_by_reason"] == {"quota_exceeded": 1, "kill_switch": 1}
    assert (february["orders_placed"], february["orders_filled"]) == (1, 2)
    days = (
        await billing.http.get(
            "/api/v1/usage", params={"from": "2026-01-31", "to": "2026-02-01"}, headers=key
        )
    ).json()
    assert [(d["period_start"], d["alerts_accepted"]) for d in days] == [
        ("2026-01-31", 1),
        ("2026-02-01", 2),
    ]


async def test_the_operator_sees_every_tenants_usage(
    billing: Billing, js: JetStreamContext, topology: Topology
) -> None:
    tenants = [(await billing.create_tenant())["tenant"]["tenant_id"] for _ in range(2)]
    for tenant_id in tenants:
        await publish_twice(js, topology, events(tenant_id)[0])
    await eventually(lambda: settled(js, topology), what="settled(js, topology)", timeout_s=20)
    params = {"period": "day", "from": "2026-01-31", "to": "2026-01-31"}
    rows = (await billing.http.get("/api/v1/tenants/usage", params=params, headers=OPERATOR)).json()
    assert sorted((r["tenant_id"], r["alerts_accepted"]) for r in rows) == sorted(
        (t, 1) for t in tenants
    )
    one = await billing.http.get(
        f"/api/v1/tenants/{tenants[0]}/usage", params=params, headers=OPERATOR
    )
    assert [r["tenant_id"] for r in one.json()] == [tenants[0]]


async def test_an_unreadable_event_is_set_aside_and_the_rest_are_counted(
    billing: Billing, js: JetStreamContext, topology: Topology
) -> None:
    tenant_id = (await billing.create_tenant())["tenant"]["tenant_id"]
    await js.publish(topology.event_subject(tenant_id, "intent.accepted"), b'{"kind": "nonsense"}')
    await publish_twice(js, topology, events(tenant_id)[0])
    await eventually(lambda: settled(js, topology), what="settled(js, topology)", timeout_s=20)
    params = {"from": "2026-01-31", "to": "2026-01-31", "tenant_id": tenant_id}
    rows = (await billing.http.get("/api/v1/tenants/usage", params=params, headers=OPERATOR)).json()
    assert [r["alerts_accepted"] for r in rows] == [1]
    dead = await js.get_last_msg(topology.deadletter_stream, topology.deadletter_subject("EVENTS"))
    assert dead.data == b'{"kind": "nonsense"}'
    assert dead.headers is not None
    assert dead.headers["Sparky-Consumer"] == USAGE_CONSUMER


async def test_asking_for_too_long_a_range_is_explained(billing: Billing) -> None:
    params = {"period": "day", "from": "2020-01-01", "to": "2026-01-01"}
    answer = await billing.http.get("/api/v1/tenants/usage", params=params, headers=OPERATOR)
    assert answer.status_code == 422
    assert answer.json()["error"] == "Ask for at most 366 days at a time."

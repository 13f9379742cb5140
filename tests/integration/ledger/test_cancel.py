"""DELETE of an open order: one `CancelOrders` on the tenant's ORDERS subject, read back from
JetStream; 404 for an order the tenant does not have, 409 for one that is not open."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest
from nats.js import JetStreamContext, api

from libs.common.ids import TenantId
from libs.common.messages import AccountMode, CancelOrders, OrderRole, Side, decode_command
from libs.common.publishing import KEY_HEADER
from libs.common.records import AccountRecord, MarketType, account_key
from libs.common.signing import Issuer
from libs.common.topology import Topology
from services.ledger.handlers.projector import Projector
from tests.helpers.ledger import T0, Order, fill, publish
from tests.helpers.signing import signed_by
from tests.integration.ledger.futures import PERP, Protection
from tests.integration.ledger.support import Headers, applied_through, key_for

ENTRY = Order("tenant-a", symbol=PERP)
STOP = Protection.of(ENTRY, OrderRole.STOP_LOSS)
DONE = Order("tenant-a", symbol=PERP, side=Side.SELL)
THEIRS = Order("tenant-b", symbol=PERP)


async def add_account(js: JetStreamContext, topology: Topology, tenant_id: str) -> None:
    accounts = await js.key_value(topology.accounts_bucket)
    record = AccountRecord(
        tenant_id=TenantId(tenant_id),
        label="main",
        exchange_id="binance",
        mode=AccountMode.PAPER,
        market_type=MarketType.FUTURES,
        updated_at=T0,
    )
    await accounts.put(account_key(tenant_id, "main"), record.model_dump_json().encode())


@dataclass(frozen=True)
class Alice:
    headers: Headers
    entry_last_event: str  # the message id of the entry's latest event


@pytest.fixture
async def alice(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology, projector: Projector
) -> Alice:
    """tenant-a with a resting entry protected by a stop, and a filled order; tenant-b with a
    resting order of its own."""
    partial = ENTRY.filled(fill("p1", "100", "0.4"), complete=False)
    events = [
        *ENTRY.opened("1"),
        partial,
        STOP.placed("0.4", trigger="95"),
        *DONE.trade(fill("d1", "101", "1")),
        *THEIRS.opened("1"),
    ]
    await applied_through(projector, await publish(js, topology, events))
    await add_account(js, topology, "tenant-a")
    await add_account(js, topology, "tenant-b")
    return Alice(await key_for(client, js, topology, "tenant-a"), partial.message_id)


async def commands(
    js: JetStreamContext, topology: Topology, tenant_id: str
) -> list[tuple[CancelOrders, dict[str, str]]]:
    """Return every command stored on the tenant's ORDERS subject, with its headers."""
    config = api.ConsumerConfig(ack_policy=api.AckPolicy.NONE, inactive_threshold=5.0)
    sub = await js.pull_subscribe(
        topology.order_subject(tenant_id), stream=topology.orders_stream, config=config
    )
    found: list[tuple[CancelOrders, dict[str, str]]] = []
    try:
        while True:
            try:
                msgs = await sub.fetch(10, timeout=0.5)
            except TimeoutError:
                return found
            for msg in msgs:
                command = decode_command(msg.data)
                assert isinstance(command, CancelOrders)
                assert signed_by(msg) is Issuer.LEDGER  # with the ledger's own key
                found.append((command, dict(msg.headers or {})))
    finally:
        await sub.unsubscribe()


async def test_deleting_an_open_order_puts_one_cancel_on_the_orders_stream(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology, alice: Alice
) -> None:
    response = await client.delete(f"/api/v1/orders/{ENTRY.client_order_id}", headers=alice.headers)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["cancel_requested"] is True
    ((command, headers),) = await commands(js, topology, "tenant-a")
    assert command.intent_id == body["intent_id"] == command.correlation_id
    assert command.client_order_id == ENTRY.client_order_id
    assert (command.account_label, command.exchange_id, command.symbol) == (
        "main",
        "binance",
        PERP,
    )
    assert command.mode is AccountMode.PAPER
    assert headers[KEY_HEADER] == f"main/{PERP}"
    trail = (await client.get(f"/api/v1/orders/{ENTRY.intent_id}", headers=alice.headers)).json()
    (entry,) = [o for o in trail["orders"] if o["client_order_id"] == ENTRY.client_order_id]
    assert entry["status"] == "partially_filled"  # until the executor reports the cancel
    assert command.causation_id == alice.entry_last_event


async def test_a_resting_stop_loss_can_be_canceled_too(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology, alice: Alice
) -> None:
    response = await client.delete(f"/api/v1/orders/{STOP.client_order_id}", headers=alice.headers)
    assert response.status_code == 202, response.text
    ((command, _),) = await commands(js, topology, "tenant-a")
    assert command.client_order_id == STOP.client_order_id


@pytest.mark.parametrize(
    "client_order_id", [THEIRS.client_order_id, "sp01NOSUCHORDER00000000000000"]
)
async def test_an_order_the_tenant_does_not_have_is_not_found(
    client: httpx.AsyncClient,
    js: JetStreamContext,
    topology: Topology,
    alice: Alice,
    client_order_id: str,
) -> None:
    response = await client.delete(f"/api/v1/orders/{client_order_id}", headers=alice.headers)
    assert response.status_code == 404
    assert await commands(js, topology, "tenant-a") == []
    assert await commands(js, topology, "tenant-b") == []


async def test_an_order_that_is_not_open_is_a_conflict(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology, alice: Alice
) -> None:
    response = await client.delete(f"/api/v1/orders/{DONE.client_order_id}", headers=alice.headers)
    assert response.status_code == 409
    assert "is filled" in response.json()["error"]
    assert await commands(js, topology, "tenant-a") == []


async def test_an_order_whose_account_is_gone_is_a_conflict(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology, alice: Alice
) -> None:
    accounts = await js.key_value(topology.accounts_bucket)
    await accounts.delete(account_key("tenant-a", "main"))
    response = await client.delete(f"/api/v1/orders/{ENTRY.client_order_id}", headers=alice.headers)
    assert response.status_code == 409
    assert "not configured any more" in response.json()["error"]
    assert await commands(js, topology, "tenant-a") == []


async def test_the_executors_answer_to_the_cancel_shows_in_the_orders_own_trail(
    client: httpx.AsyncClient,
    js: JetStreamContext,
    topology: Topology,
    projector: Projector,
    alice: Alice,
) -> None:
    response = await client.delete(f"/api/v1/orders/{STOP.client_order_id}", headers=alice.headers)
    cancel_intent = response.json()["intent_id"]
    # Reported under the cancel's own intent: still a line of the stop's history.
    canceled = STOP.canceled().model_copy(
        update={"intent_id": cancel_intent, "correlation_id": cancel_intent}
    )
    await applied_through(projector, await publish(js, topology, [canceled]))
    trail = (await client.get(f"/api/v1/orders/{ENTRY.intent_id}", headers=alice.headers)).json()
    (stop,) = [o for o in trail["orders"] if o["client_order_id"] == STOP.client_order_id]
    assert stop["status"] == "canceled"
    assert [line["kind"] for line in stop["history"]] == ["order.submitted", "order.canceled"]
    again = await client.delete(f"/api/v1/orders/{STOP.client_order_id}", headers=alice.headers)
    assert again.status_code == 409

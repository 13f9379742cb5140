"""A tenant's order is placed with its own keys only, even when labels are the same."""

from __future__ import annotations

from decimal import Decimal

import httpx
from nats.js import JetStreamContext

from libs.common.messages import OrderRejected
from libs.common.topology import Topology
from tests.helpers.executor import kinds, market_order, publish_order, wait_for_events
from tests.helpers.paper import PaperExchangeProcess
from tests.integration.executor.orders import exchange_orders, paper_tenant


async def test_two_tenants_with_the_same_label_trade_on_their_own_accounts_only(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    alice = await paper_tenant(http, js, topology, paper, "alice", balances={"USDT": "10000"})
    bob = await paper_tenant(http, js, topology, paper, "bob", balances={"USDT": "10000"})
    alices, bobs = (
        market_order("alice"),
        market_order("bob", sizing={"rule": "base", "value": "0.002"}),
    )
    await publish_order(js, topology, alices)
    await publish_order(js, topology, bobs)
    for tenant in ("alice", "bob"):
        await wait_for_events(js, topology, tenant, lambda es: "order.filled" in kinds(es))

    on_alices = await exchange_orders(paper, alice, "BTC/USDT")
    on_bobs = await exchange_orders(paper, bob, "BTC/USDT")
    assert [o["clientOrderId"] for o in on_alices] == [alices.client_order_id]
    assert [o["clientOrderId"] for o in on_bobs] == [bobs.client_order_id]
    assert Decimal(str(on_bobs[0]["filled"])) == Decimal("0.002")
    alice_btc, _ = (await paper.balances(alice.account_id))["BTC"]
    bob_btc, _ = (await paper.balances(bob.account_id))["BTC"]
    assert alice_btc < Decimal("0.001") < bob_btc  # (fees are paid in BTC)


async def test_an_order_for_an_account_only_another_tenant_has_is_rejected(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    alice = await paper_tenant(http, js, topology, paper, "alice", label="alices-only")
    await paper_tenant(http, js, topology, paper, "bob")
    await publish_order(js, topology, market_order("bob", account_label="alices-only"))
    (event,) = await wait_for_events(js, topology, "bob", bool)
    assert isinstance(event, OrderRejected)
    assert event.code == "unknown_account"
    assert await exchange_orders(paper, alice, "BTC/USDT") == []


async def test_a_client_order_id_of_another_tenants_order_is_refused(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    await paper_tenant(http, js, topology, paper, "alice")
    bob = await paper_tenant(http, js, topology, paper, "bob")
    alices = market_order("alice")
    await publish_order(js, topology, alices)
    await wait_for_events(js, topology, "alice", lambda es: "order.filled" in kinds(es))
    copycat = market_order("bob", client_order_id=alices.client_order_id)
    await publish_order(js, topology, copycat)
    (event,) = await wait_for_events(js, topology, "bob", bool)
    assert isinstance(event, OrderRejected)
    assert event.code == "duplicate_client_order_id"
    assert await exchange_orders(paper, bob, "BTC/USDT") == []

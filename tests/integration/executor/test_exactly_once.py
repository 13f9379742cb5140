"""One exchange order per intent: redeliveries and timeouts are resolved by look-up."""

from __future__ import annotations

import httpx
from nats.js import JetStreamContext
from prometheus_client import REGISTRY

from libs.common.topology import Topology
from tests.helpers.executor import kinds, market_order, publish_order, wait_for_events
from tests.helpers.paper import PaperExchangeProcess
from tests.integration.executor.orders import exchange_orders, order_ids, paper_tenant

T = "tenant-once"


def exchange_calls(method: str) -> float:
    value = REGISTRY.get_sample_value(
        "sparky_executor_exchange_call_seconds_count", {"exchange": "binance", "method": method}
    )
    return value or 0.0


def lookups(via: str, outcome: str) -> float:
    labels = {"via": via, "outcome": outcome}
    return REGISTRY.get_sample_value("sparky_executor_lookups_total", labels) or 0.0


async def test_a_place_order_delivered_twice_yields_one_exchange_order(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    account = await paper_tenant(http, js, topology, paper, T)
    command = market_order(T)
    await publish_order(js, topology, command, msg_id="first-delivery")
    await publish_order(js, topology, command, msg_id="second-delivery")
    follow_up = market_order(T)  # handled after both copies: the tenant's queue is in order
    await publish_order(js, topology, follow_up)

    events = await wait_for_events(
        js, topology, T, lambda es: follow_up.client_order_id in order_ids(es, "order.filled")
    )
    assert order_ids(events, "order.submitted").count(command.client_order_id) == 1
    assert order_ids(events, "order.filled").count(command.client_order_id) == 1
    orders = await exchange_orders(paper, account, "BTC/USDT")
    assert sorted(o["clientOrderId"] for o in orders) == sorted(
        [command.client_order_id, follow_up.client_order_id]
    )


async def test_a_timeout_after_the_exchange_accepted_is_resolved_by_look_up(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    account = await paper_tenant(http, js, topology, paper, T)
    await paper.add_fault(
        "accept_then_timeout",
        account_id=account.account_id,
        method="POST",
        path="/api/v3/order",
        count=1,
        delay_ms=6000,  # the executor's ccxt timeout is 3 s
    )
    creates, fetches = exchange_calls("create_order"), exchange_calls("fetch_order")
    found = lookups("redelivery", "found")
    command = market_order(T)
    await publish_order(js, topology, command)

    events = await wait_for_events(js, topology, T, lambda es: "order.filled" in kinds(es))
    assert kinds(events) == ["order.submitted", "order.filled"]
    orders = await exchange_orders(paper, account, "BTC/USDT")
    assert [o["clientOrderId"] for o in orders] == [command.client_order_id]
    assert exchange_calls("create_order") - creates == 1  # never submitted a second time
    assert exchange_calls("fetch_order") - fetches >= 1
    assert lookups("redelivery", "found") - found == 1  # exactly-once at work, counted


async def test_a_creation_answered_5xx_is_looked_up_and_resubmitted_only_once_it_settled(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    account = await paper_tenant(http, js, topology, paper, T)
    await paper.add_fault(
        "error", account_id=account.account_id, method="POST", path="/api/v3/order", count=1
    )
    creates, fetches = exchange_calls("create_order"), exchange_calls("fetch_order")
    not_yet, not_found = lookups("redelivery", "not_yet"), lookups("redelivery", "not_found")
    command = market_order(T)
    await publish_order(js, topology, command)

    events = await wait_for_events(js, topology, T, lambda es: "order.filled" in kinds(es))
    assert kinds(events) == ["order.submitted", "order.filled"]
    orders = await exchange_orders(paper, account, "BTC/USDT")
    assert [o["clientOrderId"] for o in orders] == [command.client_order_id]
    assert exchange_calls("create_order") - creates == 2  # the 503, then the resubmission
    assert exchange_calls("fetch_order") - fetches >= 2  # looked up until the first had settled
    assert lookups("redelivery", "not_yet") - not_yet >= 1
    assert lookups("redelivery", "not_found") - not_found == 1

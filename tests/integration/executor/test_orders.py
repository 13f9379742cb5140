"""Orders placed with the tenant's own paper account, and what the ledger hears of them."""

from __future__ import annotations

from decimal import Decimal

import httpx
from nats.js import JetStreamContext

from libs.common.messages import OrderFilled, OrderRejected, OrderSubmitted
from libs.common.topology import Topology
from tests.helpers.executor import kinds, market_order, publish_order, wait_for_events
from tests.helpers.paper import PaperExchangeProcess
from tests.integration.executor.orders import exchange_orders, paper_tenant

T = "tenant-orders"


async def test_a_market_order_is_placed_and_its_fill_is_reported(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    account = await paper_tenant(http, js, topology, paper, T)
    command = market_order(T)
    await publish_order(js, topology, command)

    events = await wait_for_events(js, topology, T, lambda es: "order.filled" in kinds(es))
    assert kinds(events) == ["order.submitted", "order.filled"]
    submitted, filled = events
    assert isinstance(submitted, OrderSubmitted)
    assert isinstance(filled, OrderFilled)
    assert submitted.client_order_id == command.client_order_id
    assert submitted.correlation_id == command.intent_id
    assert submitted.causation_id == command.message_id
    assert submitted.amount == Decimal("0.001")
    assert filled.complete
    (fill,) = filled.fills
    assert fill.amount == Decimal("0.001")
    assert fill.price == Decimal(60000)
    assert fill.fee > 0
    assert fill.fee_currency == "BTC"
    orders = await exchange_orders(paper, account, "BTC/USDT")
    assert [o["clientOrderId"] for o in orders] == [command.client_order_id]
    assert fill.trade_id  # the exchange's own trade id


async def test_a_limit_order_rests_until_the_price_crosses_then_its_fill_is_reported(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    await paper_tenant(http, js, topology, paper, T, balances={"USDT": "10000"})
    command = market_order(
        T,
        order_type="limit",
        limit_price="0.55",
        symbol="XRP/USDT",
        sizing={"rule": "base", "value": "50"},
    )
    await publish_order(js, topology, command)
    events = await wait_for_events(js, topology, T, lambda es: "order.submitted" in kinds(es))
    assert kinds(events) == ["order.submitted"]
    await paper.set_prices({"XRPUSDT": "0.54"})
    try:
        events = await wait_for_events(js, topology, T, lambda es: "order.filled" in kinds(es))
    finally:
        await paper.clear_prices()
    filled = events[-1]
    assert isinstance(filled, OrderFilled)
    assert filled.complete
    assert sum(f.amount for f in filled.fills) == Decimal(50)


async def test_an_order_below_the_minimum_value_is_rejected_in_words(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    account = await paper_tenant(http, js, topology, paper, T)
    await publish_order(js, topology, market_order(T, sizing={"rule": "quote", "value": "2"}))
    events = await wait_for_events(js, topology, T, bool)
    (rejected,) = events
    assert isinstance(rejected, OrderRejected)
    assert rejected.code == "below_min_notional"
    assert "below the exchange's minimum of 5 USDT" in rejected.reason
    assert await exchange_orders(paper, account, "BTC/USDT") == []

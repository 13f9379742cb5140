"""Every kind of exchange trouble becomes the event a trader can act on."""

from __future__ import annotations

import httpx
from nats.js import JetStreamContext

from libs.common.messages import OrderFailed, OrderRejected
from libs.common.records import AccountRecord, account_key
from libs.common.topology import Topology
from tests.helpers.executor import kinds, market_order, publish_order, wait_for_events
from tests.helpers.paper import PaperExchangeProcess
from tests.integration.executor.orders import exchange_orders, paper_tenant

T = "tenant-errors"


async def test_too_little_balance_is_rejected_with_the_exchanges_reason(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    await paper_tenant(http, js, topology, paper, T, balances={"USDT": "100"})
    await publish_order(js, topology, market_order(T, sizing={"rule": "base", "value": "1"}))
    (event,) = await wait_for_events(js, topology, T, bool)
    assert isinstance(event, OrderRejected)
    assert event.code == "insufficient_funds"
    assert "insufficient balance" in event.reason


async def test_an_order_the_exchange_finds_invalid_is_rejected_in_words(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    await paper_tenant(http, js, topology, paper, T, balances={"USDT": "100000"})
    order = market_order(T, order_type="limit", limit_price="2000000")  # above PRICE_FILTER
    await publish_order(js, topology, order)
    (event,) = await wait_for_events(js, topology, T, bool)
    assert isinstance(event, OrderRejected)
    assert event.code == "invalid_order"
    assert event.reason.startswith("The exchange refused the order")


async def test_a_symbol_the_exchange_does_not_list_is_rejected(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    await paper_tenant(http, js, topology, paper, T)
    await publish_order(js, topology, market_order(T, symbol="NOPE/USDT"))
    (event,) = await wait_for_events(js, topology, T, bool)
    assert isinstance(event, OrderRejected)
    assert event.code == "bad_symbol"
    assert "NOPE/USDT" in event.reason


async def test_keys_refused_while_trading_fail_the_order_and_mark_the_account_invalid(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    account = await paper_tenant(http, js, topology, paper, T)
    await paper.delete_account(account.account_id)
    await publish_order(js, topology, market_order(T))
    (event,) = await wait_for_events(js, topology, T, bool)
    assert isinstance(event, OrderFailed)
    assert event.reason.startswith("The exchange refused these API keys")
    kv = await js.key_value(topology.accounts_bucket)
    entry = await kv.get(account_key(T, "main"))
    assert AccountRecord.model_validate_json(entry.value or b"").status == "invalid"


async def test_rate_limits_and_server_errors_are_retried_in_place_without_a_second_order(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    account = await paper_tenant(http, js, topology, paper, T)
    scope = {"account_id": account.account_id}
    await paper.add_fault("rate_limit", method="POST", path="/api/v3/order", count=1, **scope)
    await paper.add_fault("error", method="GET", count=2, status=503, **scope)
    await paper.add_fault("accept_then_error", method="POST", count=1, status=502, **scope)
    command = market_order(T)
    await publish_order(js, topology, command)
    events = await wait_for_events(js, topology, T, lambda es: "order.filled" in kinds(es))
    assert kinds(events) == ["order.submitted", "order.filled"]
    orders = await exchange_orders(paper, account, "BTC/USDT")
    assert [o["clientOrderId"] for o in orders] == [command.client_order_id]

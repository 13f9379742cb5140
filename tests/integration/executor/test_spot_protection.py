"""Binance spot: a buy's take-profit and stop-loss placed as one OCO sell once it filled (real
ccxt `binance` against the paper exchange); one leg working expires the other."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Any

import httpx
import pytest
from nats.js import JetStreamContext

from libs.common.messages import (
    Event,
    OrderCanceled,
    OrderFilled,
    OrderRole,
    OrderSubmitted,
    ProtectionFailed,
)
from libs.common.topology import Topology
from tests.helpers.executor import kinds, market_order, publish_order, wait_for_events
from tests.helpers.paper import PaperExchangeProcess
from tests.integration.executor.orders import paper_tenant

T = "tenant-spot-oco"


@pytest.fixture(autouse=True)
async def unpinned_prices(paper: PaperExchangeProcess) -> AsyncIterator[None]:
    yield
    await paper.clear_prices()


def roles(events: Sequence[Event], kind: type[Any]) -> list[OrderRole]:
    return [e.role for e in events if isinstance(e, kind)]


async def test_a_buys_exits_rest_as_one_oco_and_the_stop_expires_the_take_profit(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    account = await paper_tenant(http, js, topology, paper, T)
    await paper.set_prices({"BTCUSDT": "60000"})
    entry = market_order(
        T,
        sizing={"rule": "base", "value": "0.001"},
        take_profit={"value": "2", "unit": "percent"},
        stop_loss={"value": "1", "unit": "percent"},
    )
    await publish_order(js, topology, entry)
    events = await wait_for_events(
        js, topology, T, lambda es: kinds(es).count("order.submitted") == 3
    )
    tp, sl = (
        next(e for e in events if isinstance(e, OrderSubmitted) and e.role is role)
        for role in (OrderRole.TAKE_PROFIT, OrderRole.STOP_LOSS)
    )
    assert (tp.trigger_price, sl.trigger_price) == (Decimal(61200), Decimal(59400))
    # What the strategy holds (0.001 less the 0.1 % fee taken in BTC) to the lot size of
    # 0.00001, locked once for both.
    assert tp.amount == sl.amount == Decimal("0.00099")
    client = paper.client(account)
    try:
        open_orders = await client.fetch_open_orders("BTC/USDT")
        lists = await client.privateGetOpenOrderList()
    finally:
        await client.close()
    assert sorted(o["clientOrderId"] for o in open_orders) == sorted(
        [entry.client_order_id + "s", entry.client_order_id + "t"]
    )
    assert [x["listClientOrderId"] for x in lists] == [entry.client_order_id + "o"]

    await paper.set_prices({"BTCUSDT": "59300"})  # the stop fires

    def stopped(es: Sequence[Event]) -> bool:
        return OrderRole.STOP_LOSS in roles(es, OrderFilled) and OrderRole.TAKE_PROFIT in roles(
            es, OrderCanceled
        )

    await wait_for_events(js, topology, T, stopped)
    free, locked = (await paper.balances(account.account_id)).get("BTC", (Decimal(0), Decimal(0)))
    assert (free, locked) == (Decimal("0.000009"), Decimal(0))  # dust below a lot, none locked


async def test_a_sell_frees_the_coins_its_oco_locks_and_a_partial_one_says_what_is_unprotected(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    await paper_tenant(http, js, topology, paper, T)
    await paper.set_prices({"BTCUSDT": "60000"})
    entry = market_order(
        T,
        sizing={"rule": "base", "value": "0.002"},
        take_profit={"value": "2", "unit": "percent"},
        stop_loss={"value": "1", "unit": "percent"},
    )
    await publish_order(js, topology, entry)
    await wait_for_events(js, topology, T, lambda es: kinds(es).count("order.submitted") == 3)
    half = market_order(
        T, side="sell", sizing={"rule": "percent_position", "value": "50"}, leverage=None
    )
    await publish_order(js, topology, half)

    def sold(es: Sequence[Event]) -> bool:
        return any(
            isinstance(e, OrderFilled) and e.client_order_id == half.client_order_id for e in es
        )

    events = await wait_for_events(js, topology, T, sold)
    assert set(roles(events, OrderCanceled)) == {OrderRole.TAKE_PROFIT, OrderRole.STOP_LOSS}
    failed = [e for e in events if isinstance(e, ProtectionFailed)]
    assert {e.protection for e in failed} == {OrderRole.TAKE_PROFIT, OrderRole.STOP_LOSS}
    assert all("is not protected by it" in e.reason for e in failed)
    assert all(e.client_order_id == entry.client_order_id for e in failed)

"""What the executor cannot place as asked is refused in words and never reaches the exchange."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from nats.js import JetStreamContext

from libs.common.messages import OrderRejected
from libs.common.topology import Topology
from tests.helpers.executor import (
    kinds,
    market_order,
    publish_order,
    seed_tenant,
    wait_for_events,
)
from tests.helpers.paper import PaperExchangeProcess
from tests.integration.executor.orders import exchange_orders, paper_tenant

T = "tenant-unsupported"
TRAIL = {"value": "2", "unit": "percent", "kind": "trailing"}


@pytest.mark.parametrize(
    "parts",
    [
        {"stop_loss": TRAIL},  # Binance spot holds no trailing stop
        {"leverage": "5"},
        {"margin_mode": "isolated"},
    ],
)
async def test_an_order_the_executor_cannot_place_as_asked_is_rejected_not_trimmed(
    http: httpx.AsyncClient,
    js: JetStreamContext,
    topology: Topology,
    paper: PaperExchangeProcess,
    parts: dict[str, Any],
) -> None:
    account = await paper_tenant(http, js, topology, paper, T)
    await publish_order(js, topology, market_order(T, **parts))
    (rejected,) = await wait_for_events(js, topology, T, bool)
    assert isinstance(rejected, OrderRejected)
    assert rejected.code == "unsupported_order"
    assert "the order was not placed" in rejected.reason
    assert await exchange_orders(paper, account, "BTC/USDT") == []


async def test_leverage_1x_on_spot_is_placed_as_the_spot_order_it_is(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    account = await paper_tenant(http, js, topology, paper, T)
    command = market_order(T, leverage="1")
    await publish_order(js, topology, command)
    events = await wait_for_events(js, topology, T, lambda es: "order.filled" in kinds(es))
    assert kinds(events) == ["order.submitted", "order.filled"]
    orders = await exchange_orders(paper, account, "BTC/USDT")
    assert [o["clientOrderId"] for o in orders] == [command.client_order_id]


async def test_a_futures_account_on_a_venue_without_paper_futures_is_refused_in_words(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    key = await seed_tenant(js, topology, T, api=http, max_exchange_accounts=None)
    account = await paper.create_account({"USDT": "10000"})
    body = {
        "label": "perps",
        "exchange_id": "okx",
        "mode": "paper",
        "market_type": "futures",
        "api_key": account.api_key,
        "secret": account.secret,
        "passphrase": "p",
    }
    auth = {"Authorization": f"Bearer {key}"}
    refused = await http.post("/api/v1/exchange-accounts", json=body, headers=auth)
    assert refused.status_code == 409
    assert refused.json()["code"] == "unsupported_exchange"
    assert refused.json()["error"] == (
        "'okx' is not supported for paper futures accounts; supported: binance."
    )
    listed = await http.get("/api/v1/exchange-accounts", headers=auth)
    assert listed.json() == {"accounts": []}

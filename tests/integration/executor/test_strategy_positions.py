"""A strategy sells only what it bought: real ccxt against the paper exchange, real Postgres.

The trader holds 2 BTC of their own. The paper exchange keeps Binance's fees: 0.1 %, taken in
BTC on a buy, so a buy of 0.1 BTC leaves the strategy 0.0999 BTC, and that is what it sells.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from nats.js import JetStreamContext

from libs.common.messages import (
    DriftSource,
    Event,
    OrderRejected,
    OrderSubmitted,
    PositionDrift,
)
from libs.common.topology import Topology
from services.executor.runtime import Runtime
from tests.helpers.executor import (
    kinds,
    market_order,
    publish_order,
    seed_tenant,
    wait_for_events,
)
from tests.helpers.paper import PaperAccount, PaperExchangeProcess
from tests.integration.executor.orders import paper_tenant

T = "tenant-strategy"
OWN_BTC = Decimal(2)
OWN = {"USDT": "100000", "BTC": str(OWN_BTC)}
BOUGHT = Decimal("0.0999")  # 0.1 less the 0.1 % fee taken in BTC


def sizing(rule: str, value: str) -> dict[str, str]:
    return {"rule": rule, "value": value}


async def place(js: JetStreamContext, topology: Topology, count: int, **order: Any) -> list[Event]:
    """Publish one order; return the tenant's events once ``count`` orders have ended."""
    await publish_order(js, topology, market_order(T, **order))
    return await wait_for_events(js, topology, T, lambda es: _ended(es) >= count)


def _ended(events: Sequence[Event]) -> int:
    ends = {"order.filled", "order.rejected", "order.failed"}
    return len({e.client_order_id for e in events if e.kind in ends})  # type: ignore[union-attr]


async def btc(paper: PaperExchangeProcess, account: PaperAccount) -> Decimal:
    free, locked = (await paper.balances(account.account_id))["BTC"]
    return free + locked


async def held(runtime: Runtime) -> Decimal:
    return (await runtime.orders.position(T, "main", "BTC/USDT")).quantity


async def bought(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> PaperAccount:
    """The trader's account, 2 BTC of their own, after the strategy bought 0.1 BTC."""
    account = await paper_tenant(http, js, topology, paper, T, balances=OWN)
    await place(js, topology, 1, sizing=sizing("base", "0.1"))
    return account


async def test_a_close_sells_the_strategys_coins_and_leaves_the_traders_own(
    http: httpx.AsyncClient,
    js: JetStreamContext,
    topology: Topology,
    paper: PaperExchangeProcess,
    runtime: Runtime,
) -> None:
    account = await bought(http, js, topology, paper)
    assert await held(runtime) == BOUGHT
    events = await place(js, topology, 2, side="sell", sizing=sizing("percent_position", "100"))
    sold = [e for e in events if isinstance(e, OrderSubmitted)][-1]
    assert sold.amount == BOUGHT
    assert await btc(paper, account) == Decimal(2)  # exactly the trader's own 2 BTC
    assert await held(runtime) == 0


async def test_a_target_position_and_a_percentage_count_the_strategys_coins_only(
    http: httpx.AsyncClient,
    js: JetStreamContext,
    topology: Topology,
    paper: PaperExchangeProcess,
    runtime: Runtime,
) -> None:
    account = await bought(http, js, topology, paper)
    await place(js, topology, 2, side="sell", sizing=sizing("target_position", "0.04"))
    assert await held(runtime) == Decimal("0.04")
    await place(js, topology, 3, side="sell", sizing=sizing("percent_position", "50"))
    assert await held(runtime) == Decimal("0.02")
    assert await btc(paper, account) == Decimal("2.02")


async def test_a_sell_larger_than_the_strategy_sells_what_it_bought_and_says_why(
    http: httpx.AsyncClient,
    js: JetStreamContext,
    topology: Topology,
    paper: PaperExchangeProcess,
    runtime: Runtime,
) -> None:
    account = await bought(http, js, topology, paper)
    events = await place(js, topology, 2, side="sell", sizing=sizing("base", "1.5"))
    sold = [e for e in events if isinstance(e, OrderSubmitted)][-1]
    assert sold.amount == BOUGHT
    assert sold.note is not None
    assert "not the 1.5 asked" in sold.note
    assert await btc(paper, account) == Decimal(2)
    again = await place(js, topology, 3, side="sell", sizing=sizing("base", "0.5"))
    refused = again[-1]
    assert isinstance(refused, OrderRejected)
    assert refused.code == "nothing_to_close"
    assert await btc(paper, account) == Decimal(2)


async def test_coins_sold_by_hand_are_written_off_reported_and_not_sold_twice(
    http: httpx.AsyncClient,
    js: JetStreamContext,
    topology: Topology,
    paper: PaperExchangeProcess,
    runtime: Runtime,
) -> None:
    account = await paper_tenant(http, js, topology, paper, T, balances={"USDT": "10000"})
    await place(js, topology, 1, sizing=sizing("base", "0.1"))
    await paper.set_balances(account.account_id, {"BTC": "0.03"})  # sold 0.0699 by hand
    events = await place(js, topology, 2, side="sell", sizing=sizing("percent_position", "100"))
    (drift,) = [e for e in events if isinstance(e, PositionDrift)]
    assert drift.source is DriftSource.WALLET
    assert (drift.expected, drift.actual, drift.written_off) == (
        BOUGHT,
        Decimal("0.03"),
        Decimal("0.0699"),
    )
    assert "sold or moved outside Sparky" in drift.message
    sold = [e for e in events if isinstance(e, OrderSubmitted)][-1]
    assert sold.amount == Decimal("0.03")
    assert (await held(runtime), await btc(paper, account)) == (Decimal(0), Decimal(0))


async def test_coins_locked_in_an_open_order_are_not_sold(
    http: httpx.AsyncClient,
    js: JetStreamContext,
    topology: Topology,
    paper: PaperExchangeProcess,
    runtime: Runtime,
) -> None:
    account = await bought(http, js, topology, paper)
    # A limit sell of the trader's rests on the exchange and locks 2.05 of the 2.0999 BTC.
    client = paper.client(account)
    try:
        await client.create_order("BTC/USDT", "limit", "sell", "2.05", "90000")
    finally:
        await client.close()
    events = await place(js, topology, 2, side="sell", sizing=sizing("percent_position", "100"))
    sold = [e for e in events if isinstance(e, OrderSubmitted)][-1]
    assert sold.amount == Decimal("0.0499")  # what is free, not the 0.0999 bought
    assert sold.note is not None
    assert "locked in open orders" in sold.note
    assert await held(runtime) == Decimal("0.05")


async def test_a_missed_buy_is_reported_after_the_fill_or_healed_before_it(
    http: httpx.AsyncClient,
    js: JetStreamContext,
    topology: Topology,
    paper: PaperExchangeProcess,
    runtime: Runtime,
) -> None:
    await paper_tenant(http, js, topology, paper, T, balances=OWN)
    # TradingView says the strategy holds 0.2 after a buy of 0.1: the buy before was missed.
    events = await place(js, topology, 1, sizing=sizing("base", "0.1"), expected_position="0.2")
    (reported,) = [e for e in events if isinstance(e, PositionDrift)]
    assert (reported.source, reported.healed) == (DriftSource.TRADINGVIEW, False)
    assert (reported.expected, reported.actual) == (Decimal("0.2"), BOUGHT)
    assert kinds(events)[-1] == "position.drift"  # once the order filled
    # Healing on: the next alert (0.1 more, 0.3 after) restores TradingView's position.
    events = await place(
        js,
        topology,
        2,
        sizing=sizing("base", "0.1"),
        expected_position="0.3",
        heal_drift=True,
    )
    healed = [e for e in events if isinstance(e, PositionDrift)][-1]
    assert (healed.healed, healed.expected, healed.actual) == (True, Decimal("0.3"), BOUGHT)
    sized = [e for e in events if isinstance(e, OrderSubmitted)][-1]
    assert sized.amount == Decimal("0.2001")  # 0.3 - 0.0999
    # TradingView counts no fee taken in BTC: 0.2997999 held after 0.0003001 of fees taken
    # in BTC is no drift.
    assert await held(runtime) == Decimal("0.2997999")
    assert [e.kind for e in events].count("position.drift") == 2


async def test_an_order_whose_signal_is_too_old_is_refused_and_not_placed(
    http: httpx.AsyncClient,
    js: JetStreamContext,
    topology: Topology,
    paper: PaperExchangeProcess,
    runtime: Runtime,
) -> None:
    account = await paper_tenant(http, js, topology, paper, T, balances=OWN)
    fired = datetime.now(UTC) - timedelta(seconds=150)
    events = await place(
        js, topology, 1, sizing=sizing("base", "0.1"), signal_at=fired, max_signal_age_s=120
    )
    (refused,) = events
    assert isinstance(refused, OrderRejected)
    assert refused.code == "stale_signal"
    assert f"{fired:%H:%M:%S} UTC" in refused.reason
    assert await btc(paper, account) == Decimal(2)


async def test_an_account_removed_and_added_again_sells_nothing_it_did_not_buy(
    http: httpx.AsyncClient,
    js: JetStreamContext,
    topology: Topology,
    paper: PaperExchangeProcess,
    runtime: Runtime,
) -> None:
    await bought(http, js, topology, paper)
    key = await seed_tenant(js, topology, T, api=http, max_exchange_accounts=None)
    auth = {"Authorization": f"Bearer {key}"}
    assert (await http.delete("/api/v1/exchange-accounts/main", headers=auth)).status_code == 204
    other = await paper.create_account(OWN)  # another wallet, under the same label
    body = {"label": "main", "exchange_id": "binance", "mode": "paper"}
    body |= {"api_key": other.api_key, "secret": other.secret}
    assert (await http.post("/api/v1/exchange-accounts", json=body, headers=auth)).is_success
    assert await held(runtime) == 0
    events = await place(js, topology, 2, side="sell", sizing=sizing("percent_position", "100"))
    refused = events[-1]
    assert isinstance(refused, OrderRejected)
    assert refused.code == "nothing_to_close"
    assert await btc(paper, other) == OWN_BTC


async def test_a_wallet_emptied_by_hand_refuses_the_close_and_writes_the_strategy_off(
    http: httpx.AsyncClient,
    js: JetStreamContext,
    topology: Topology,
    paper: PaperExchangeProcess,
    runtime: Runtime,
) -> None:
    account = await paper_tenant(http, js, topology, paper, T, balances={"USDT": "10000"})
    await place(js, topology, 1, sizing=sizing("base", "0.1"))
    await paper.set_balances(account.account_id, {"BTC": "0"})  # all sold by hand
    events = await place(js, topology, 2, side="sell", sizing=sizing("percent_position", "100"))
    drift, refused = events[-2:]
    assert isinstance(drift, PositionDrift)
    assert (drift.source, drift.written_off) == (DriftSource.WALLET, BOUGHT)
    assert isinstance(refused, OrderRejected)
    assert refused.code == "nothing_to_close"
    assert await held(runtime) == 0  # a later buy starts the strategy afresh

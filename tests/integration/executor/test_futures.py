"""USDⓈ-M perpetuals with real ccxt `binanceusdm` against the paper exchange: longs and shorts,
reverses, targets, leverage and margin mode, protective orders around the fill, cancels, marks
and funding."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from decimal import Decimal
from typing import Any

import httpx
import pytest
from nats.js import JetStreamContext

from libs.common.ids import new_id, new_intent_id
from libs.common.messages import (
    AccountMode,
    CancelOrders,
    Event,
    FundingPaid,
    IntentRejected,
    OrderCanceled,
    OrderFilled,
    OrderRejected,
    OrderRole,
    OrderSubmitted,
    PositionMarked,
    ProtectionFailed,
)
from libs.common.messages.events import OrderEvent
from libs.common.topology import Topology
from services.executor.config import ExecutorSettings
from tests import factories
from tests.helpers.executor import (
    kinds,
    market_order,
    publish_order,
    wait_for_events,
)
from tests.helpers.paper import PaperAccount, PaperExchangeProcess
from tests.integration.executor.orders import paper_tenant

T = "tenant-futures"
PERP = "BTC/USDT:USDT"
PCT = {"unit": "percent"}


@pytest.fixture
def settings(settings: ExecutorSettings) -> ExecutorSettings:
    """The executor's test settings, marking positions every 0.3 s."""
    return settings.model_copy(update={"marks_interval_s": 0.3})


@pytest.fixture(autouse=True)
async def unpinned_prices(paper: PaperExchangeProcess) -> AsyncIterator[None]:
    """Prices pinned here are unpinned after the test: the paper exchange is the session's."""
    yield
    await paper.clear_prices()


async def futures_tenant(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> PaperAccount:
    """A tenant with a paper futures account labelled ``perps`` holding 10,000 USDT."""
    return await paper_tenant(http, js, topology, paper, T, label="perps", futures_wallet="10000")


def order(side: str, amount: str | None = None, **overrides: Any) -> Any:
    sizing = {"rule": "base", "value": amount} if amount is not None else None
    fields: dict[str, Any] = {"account_label": "perps", "symbol": PERP, "side": side}
    if sizing is not None:
        fields["sizing"] = sizing
    return market_order(T, **(fields | overrides))


def filled_times(count: int) -> Callable[[Sequence[Event]], bool]:
    return lambda events: kinds(events).count("order.filled") == count


def of(events: Sequence[Event], kind: type[OrderEvent], role: OrderRole) -> list[Any]:
    return [e for e in events if isinstance(e, kind) and e.role is role]


async def position(paper: PaperExchangeProcess, account: PaperAccount) -> dict[str, Any]:
    view = await paper.futures(account.account_id)
    found = [p for p in view["positions"] if p["symbol"] == "BTCUSDT"]
    return found[0] if found else {"amount": "0"}


async def open_algo_orders(paper: PaperExchangeProcess, account: PaperAccount) -> list[Any]:
    client = paper.futures_client(account)
    try:
        found: list[Any] = await client.fetch_open_orders(PERP, params={"trigger": True})
    finally:
        await client.close()
    return found


async def test_a_long_gets_its_tp_and_sl_at_the_fill_then_the_tp_fills_and_the_sl_is_canceled(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    account = await futures_tenant(http, js, topology, paper)
    await paper.set_prices({"BTCUSDT": "60000"})
    entry = order(
        "buy",
        "0.002",
        leverage="5",
        margin_mode="isolated",
        take_profit={"value": "2", **PCT},
        stop_loss={"value": "1", **PCT},
    )
    await publish_order(js, topology, entry)

    def protected(es: Sequence[Event]) -> bool:
        return len([e for e in es if isinstance(e, OrderSubmitted)]) == 3

    events = await wait_for_events(js, topology, T, protected)
    (tp,) = of(events, OrderSubmitted, OrderRole.TAKE_PROFIT)
    (sl,) = of(events, OrderSubmitted, OrderRole.STOP_LOSS)
    assert (tp.trigger_price, sl.trigger_price) == (Decimal(61200), Decimal(59400))
    assert tp.parent_client_order_id == sl.parent_client_order_id == entry.client_order_id
    assert tp.reduce_only
    assert sl.reduce_only
    assert tp.side.value == sl.side.value == "sell"
    held = await position(paper, account)
    assert (Decimal(held["amount"]), held["leverage"], held["margin_type"]) == (
        Decimal("0.002"),
        5,
        "ISOLATED",
    )
    assert len(await open_algo_orders(paper, account)) == 2

    await paper.set_prices({"BTCUSDT": "61300"})  # the take-profit fires

    def closed(es: Sequence[Event]) -> bool:
        return bool(of(es, OrderFilled, OrderRole.TAKE_PROFIT)) and bool(
            of(es, OrderCanceled, OrderRole.STOP_LOSS)
        )

    events = await wait_for_events(js, topology, T, closed)
    assert Decimal((await position(paper, account))["amount"]) == 0
    assert await open_algo_orders(paper, account) == []
    assert not [e for e in events if isinstance(e, ProtectionFailed)]


async def test_a_short_reversed_to_a_long_closes_first_then_opens(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    account = await futures_tenant(http, js, topology, paper)
    short = order("sell", "0.002")
    await publish_order(js, topology, short)
    await wait_for_events(js, topology, T, lambda es: "order.filled" in kinds(es))
    assert Decimal((await position(paper, account))["amount"]) == Decimal("-0.002")

    intent = new_id()
    legs = [
        order(
            "buy",
            intent_id=intent,
            correlation_id=intent,
            leg=0,
            client_order_id=f"sp{intent}0",
            sizing={"rule": "percent_position", "value": "100"},
            reduce_only=True,
        ),
        order("buy", "0.003", intent_id=intent, correlation_id=intent, leg=1,
              client_order_id=f"sp{intent}1"),
    ]  # fmt: skip
    for leg in legs:
        await publish_order(js, topology, leg)
    events = await wait_for_events(js, topology, T, lambda es: kinds(es).count("order.filled") == 3)
    fills = [e for e in events if isinstance(e, OrderFilled)]
    assert [(f.client_order_id, f.fills[0].amount) for f in fills[1:]] == [
        (legs[0].client_order_id, Decimal("0.002")),
        (legs[1].client_order_id, Decimal("0.003")),
    ]
    assert Decimal((await position(paper, account))["amount"]) == Decimal("0.003")


async def test_the_open_leg_of_a_reverse_is_never_sent_when_the_close_did_not_fill(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    account = await futures_tenant(http, js, topology, paper)
    await publish_order(js, topology, order("buy", "0.002"))
    await wait_for_events(js, topology, T, lambda es: "order.filled" in kinds(es))
    intent = new_id()
    stale = factories.T0  # long past: the close is refused as stale
    close = order(
        "sell",
        intent_id=intent,
        correlation_id=intent,
        leg=0,
        client_order_id=f"sp{intent}0",
        sizing={"rule": "percent_position", "value": "100"},
        reduce_only=True,
        signal_at=stale,
        max_signal_age_s=60,
    )
    opening = order("sell", "0.003", intent_id=intent, correlation_id=intent, leg=1,
                    client_order_id=f"sp{intent}1")  # fmt: skip
    await publish_order(js, topology, close)
    await publish_order(js, topology, opening)
    events = await wait_for_events(
        js, topology, T, lambda es: kinds(es).count("order.rejected") == 2
    )
    first, second = [e for e in events if isinstance(e, OrderRejected)]
    assert (first.code, second.code) == ("stale_signal", "reverse_close_not_filled")
    assert "never holds both at once" in second.reason
    assert Decimal((await position(paper, account))["amount"]) == Decimal("0.002")


async def test_target_positions_reach_a_short_and_come_back(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    account = await futures_tenant(http, js, topology, paper)
    for target, fills in (("-0.003", 1), ("-0.001", 2)):
        command = order("sell", sizing={"rule": "target_position", "value": target})
        await publish_order(js, topology, command)
        await wait_for_events(js, topology, T, filled_times(fills))
        assert Decimal((await position(paper, account))["amount"]) == Decimal(target)


async def test_a_close_cancels_the_positions_protective_orders(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    account = await futures_tenant(http, js, topology, paper)
    await paper.set_prices({"BTCUSDT": "60000"})
    protected = order("buy", "0.002", stop_loss={"value": "500", "unit": "amount"})
    await publish_order(js, topology, protected)
    await wait_for_events(js, topology, T, lambda es: kinds(es).count("order.submitted") == 2)
    assert len(await open_algo_orders(paper, account)) == 1
    flat = order("sell", sizing={"rule": "target_position", "value": "0"}, reduce_only=True)
    await publish_order(js, topology, flat)
    events = await wait_for_events(
        js, topology, T, lambda es: bool(of(es, OrderCanceled, OrderRole.STOP_LOSS))
    )
    assert kinds(events).count("order.filled") == 2
    assert await open_algo_orders(paper, account) == []
    assert Decimal((await position(paper, account))["amount"]) == 0


async def test_a_stop_on_the_wrong_side_is_reported_and_the_position_kept(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    account = await futures_tenant(http, js, topology, paper)
    await paper.set_prices({"BTCUSDT": "60000"})
    wrong = {"value": "61000", "unit": "price"}
    await publish_order(js, topology, order("buy", "0.002", stop_loss=wrong))
    events = await wait_for_events(
        js, topology, T, lambda es: any(isinstance(e, ProtectionFailed) for e in es)
    )
    (failed,) = [e for e in events if isinstance(e, ProtectionFailed)]
    assert failed.protection is OrderRole.STOP_LOSS
    assert "must be below the entry price of 60000" in failed.reason
    assert Decimal((await position(paper, account))["amount"]) == Decimal("0.002")


async def test_cancel_cancels_sparkys_open_orders_and_never_the_traders_own(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    account = await futures_tenant(http, js, topology, paper)
    await paper.set_prices({"BTCUSDT": "60000"})
    resting = order("buy", "0.002", order_type="limit", limit_price="55000")
    await publish_order(js, topology, resting)
    await wait_for_events(js, topology, T, lambda es: "order.submitted" in kinds(es))
    client = paper.futures_client(account)
    try:
        own = await client.create_order(PERP, "limit", "buy", 0.002, 54000)
    finally:
        await client.close()
    intent = new_intent_id()
    cancel = CancelOrders(
        **factories.envelope(T, intent),
        intent_id=intent,
        account_label="perps",
        exchange_id="binance",
        mode=AccountMode.PAPER,
        symbol=PERP,
        received_at=factories.T0,
    )
    await publish_order(js, topology, cancel)
    events = await wait_for_events(js, topology, T, lambda es: "order.canceled" in kinds(es))
    (canceled,) = [e for e in events if isinstance(e, OrderCanceled)]
    assert canceled.client_order_id == resting.client_order_id
    client = paper.futures_client(account)
    try:
        still = await client.fetch_open_orders(PERP)
    finally:
        await client.close()
    assert [o["id"] for o in still] == [own["id"]]

    by_id = order("buy", "0.002", order_type="limit", limit_price="56000")
    await publish_order(js, topology, by_id)
    await wait_for_events(js, topology, T, lambda es: kinds(es).count("order.submitted") == 2)
    one = cancel.model_copy(
        update={"message_id": new_id(), "client_order_id": by_id.client_order_id}
    )
    await publish_order(js, topology, one)
    events = await wait_for_events(
        js, topology, T, lambda es: kinds(es).count("order.canceled") == 2
    )
    assert [e.client_order_id for e in events if isinstance(e, OrderCanceled)] == [
        resting.client_order_id,
        by_id.client_order_id,
    ]

    again = cancel.model_copy(update={"message_id": new_id()})
    await publish_order(js, topology, again)
    events = await wait_for_events(
        js, topology, T, lambda es: any(isinstance(e, IntentRejected) for e in es)
    )
    (nothing,) = [e for e in events if isinstance(e, IntentRejected)]
    assert nothing.reason.value == "unknown_order"
    assert "orders placed outside Sparky are never touched" in nothing.message


async def test_a_held_position_is_marked_and_its_funding_reported_once(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    account = await futures_tenant(http, js, topology, paper)
    await paper.set_prices({"BTCUSDT": "60000"})
    await publish_order(js, topology, order("sell", "0.002"))
    await wait_for_events(js, topology, T, lambda es: "order.filled" in kinds(es))
    await paper.set_prices({"BTCUSDT": "59000"})
    events = await wait_for_events(
        js,
        topology,
        T,
        lambda es: any(isinstance(e, PositionMarked) and e.mark_price == 59000 for e in es),
    )
    mark = [e for e in events if isinstance(e, PositionMarked)][-1]
    assert (mark.quantity, mark.unrealized_pnl) == (Decimal("-0.002"), Decimal(2))
    assert await paper.settle_funding() >= 1
    events = await wait_for_events(
        js, topology, T, lambda es: any(isinstance(e, FundingPaid) for e in es)
    )
    (funding,) = [e for e in events if isinstance(e, FundingPaid)]
    assert funding.symbol == PERP
    assert funding.currency == "USDT"
    assert account.account_id > 0


async def test_a_leverage_cap_lowers_a_higher_leverage_set_by_hand_and_never_raises_one(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    account = await futures_tenant(http, js, topology, paper)
    client = paper.futures_client(account)
    try:
        await client.set_leverage(10, PERP)
        await client.set_leverage(3, "ETH/USDT:USDT")
    finally:
        await client.close()
    await publish_order(js, topology, order("buy", "0.002", max_leverage="5"))
    eth = order("buy", "0.05", symbol="ETH/USDT:USDT", max_leverage="5")
    await publish_order(js, topology, eth)
    await wait_for_events(js, topology, T, filled_times(2))
    view = await paper.futures(account.account_id)
    leverage = {p["symbol"]: p["leverage"] for p in view["positions"]}
    assert leverage == {"BTCUSDT": 5, "ETHUSDT": 3}

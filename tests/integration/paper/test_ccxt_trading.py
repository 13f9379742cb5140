"""ccxt's own async binance class trades on the paper exchange, unmodified."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from tests.helpers.paper import PaperAccount, PaperExchangeProcess
from tests.helpers.polling import eventually

BTC = "BTC/USDT"


async def test_markets_carry_the_filters_as_ccxt_precision_and_limits(exchange: Any) -> None:
    market = exchange.market(BTC)
    assert market["id"] == "BTCUSDT"
    assert market["spot"] is True
    assert market["active"] is True
    assert market["precision"] == {"amount": 1e-05, "price": 0.01, "base": 1e-08, "quote": 1e-08}
    assert market["limits"]["amount"]["min"] == 1e-05
    assert market["limits"]["cost"]["min"] == 5.0
    assert exchange.amount_to_precision(BTC, 0.0123456) == "0.01234"
    assert exchange.price_to_precision(BTC, 60000.129) == "60000.13"


async def test_server_time_is_the_clock(exchange: Any) -> None:
    server = await exchange.fetch_time()
    assert abs(server - time.time() * 1000) < 60_000


async def test_a_new_account_shows_its_starting_balances(exchange: Any) -> None:
    balance = await exchange.fetch_balance()
    assert balance["total"] == {"USDT": 10000.0, "BTC": 1.0, "ETH": 10.0}
    assert balance["used"]["USDT"] == 0.0


async def test_a_market_buy_fills_at_once_and_pays_its_fee_in_the_base_asset(
    exchange: Any, paper: PaperExchangeProcess, account: PaperAccount
) -> None:
    order = await exchange.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "mb-1"})
    assert order["clientOrderId"] == "mb-1"
    assert order["status"] == "closed"
    assert order["filled"] == 0.01
    assert order["average"] == 60000.0
    assert order["cost"] == 600.0
    [trade] = order["trades"]
    assert trade["fee"] == {"cost": 1e-05, "currency": "BTC"}
    assert trade["id"]
    assert await paper.balances(account.account_id) == {
        "USDT": (Decimal(9400), Decimal(0)),
        "BTC": (Decimal("1.00999"), Decimal(0)),
        "ETH": (Decimal(10), Decimal(0)),
    }


async def test_a_market_sell_pays_its_fee_in_the_quote_asset(exchange: Any) -> None:
    order = await exchange.create_order(BTC, "market", "sell", 0.1)
    [trade] = order["trades"]
    assert trade["fee"] == {"cost": 6.0, "currency": "USDT"}
    balance = await exchange.fetch_balance()
    assert balance["USDT"]["free"] == 10000 + 6000 - 6
    assert balance["BTC"]["free"] == 0.9


async def test_a_market_buy_by_cost_spends_about_that_much_quote(exchange: Any) -> None:
    order = await exchange.create_market_buy_order_with_cost(BTC, 100)
    assert order["status"] == "closed"
    assert order["filled"] == 0.00166  # 100 / 60000 floored to the 0.00001 step
    assert order["cost"] == 99.6


async def test_a_limit_order_below_the_price_rests_and_locks_its_cost(exchange: Any) -> None:
    order = await exchange.create_order(BTC, "limit", "buy", 0.01, 50000, {"clientOrderId": "l-1"})
    assert order["status"] == "open"
    assert order["filled"] == 0.0
    balance = await exchange.fetch_balance()
    assert balance["USDT"] == {"free": 9500.0, "used": 500.0, "total": 10000.0}
    [listed] = await exchange.fetch_open_orders(BTC)
    assert listed["id"] == order["id"]
    by_id = await exchange.fetch_order(order["id"], BTC)
    by_client_id = await exchange.fetch_order(None, BTC, {"origClientOrderId": "l-1"})
    assert by_id["clientOrderId"] == by_client_id["clientOrderId"] == "l-1"
    assert by_client_id["id"] == order["id"]


async def test_a_canceled_limit_order_gives_its_locked_cost_back(exchange: Any) -> None:
    order = await exchange.create_order(BTC, "limit", "buy", 0.01, 50000, {"clientOrderId": "c-1"})
    canceled = await exchange.cancel_order(order["id"], BTC)
    assert canceled["status"] == "canceled"
    assert canceled["info"]["origClientOrderId"] == "c-1"
    assert (await exchange.fetch_order(None, BTC, {"clientOrderId": "c-1"}))["status"] == "canceled"
    assert await exchange.fetch_open_orders(BTC) == []
    balance = await exchange.fetch_balance()
    assert balance["USDT"] == {"free": 10000.0, "used": 0.0, "total": 10000.0}


async def test_a_resting_limit_order_fills_when_the_price_crosses_it(
    exchange: Any, paper: PaperExchangeProcess
) -> None:
    buy = await exchange.create_order(BTC, "limit", "buy", 0.01, 59000)
    sell = await exchange.create_order(BTC, "limit", "sell", 0.01, 61000)
    assert await paper.set_prices({"BTCUSDT": "58999.99"}) >= 1
    assert (await exchange.fetch_order(buy["id"], BTC))["status"] == "closed"
    assert (await exchange.fetch_order(sell["id"], BTC))["status"] == "open"
    [trade] = await exchange.fetch_my_trades(BTC)
    assert trade["order"] == buy["id"]
    assert trade["price"] == 59000.0  # a resting order fills at its own price
    assert trade["takerOrMaker"] == "maker"
    assert trade["fee"] == {"cost": 1e-05, "currency": "BTC"}
    balance = await exchange.fetch_balance()
    assert balance["USDT"]["total"] == 10000 - 590
    assert balance["BTC"]["used"] == 0.01  # the resting sell still locks its amount


async def test_the_background_matcher_fills_without_being_asked(
    exchange: Any, paper: PaperExchangeProcess
) -> None:
    order = await exchange.create_order(BTC, "limit", "sell", 0.01, 61000)
    assert await paper.set_prices({"BTCUSDT": "61000.01"}, match=False) == 0

    async def status() -> str:
        return str((await exchange.fetch_order(order["id"], BTC))["status"])

    ended = await eventually(status, until=lambda s: s != "open", what="the order no longer open")
    assert ended == "closed"


async def test_a_limit_order_that_crosses_at_once_fills_as_a_taker(exchange: Any) -> None:
    order = await exchange.create_order(BTC, "limit", "buy", 0.01, 61000)
    assert order["status"] == "closed"
    [trade] = order["trades"]
    assert trade["price"] == 60000.0  # the market price, better than the limit
    [mine] = await exchange.fetch_my_trades(BTC)
    assert mine["takerOrMaker"] == "taker"
    assert mine["id"] == trade["id"]


async def test_an_immediate_or_cancel_order_that_cannot_fill_expires(exchange: Any) -> None:
    order = await exchange.create_order(BTC, "limit", "buy", 0.01, 50000, {"timeInForce": "IOC"})
    assert order["status"] == "expired"
    assert (await exchange.fetch_balance())["USDT"]["free"] == 10000.0


async def test_my_trades_list_each_fill_with_its_order_and_fee(exchange: Any) -> None:
    first = await exchange.create_order(BTC, "market", "buy", 0.01)
    second = await exchange.create_order(BTC, "market", "sell", 0.02)
    trades = await exchange.fetch_my_trades(BTC)
    assert [t["order"] for t in trades] == [first["id"], second["id"]]
    assert [t["id"] for t in trades] == [first["trades"][0]["id"], second["trades"][0]["id"]]
    assert [t["fee"]["currency"] for t in trades] == ["BTC", "USDT"]
    only_second = await exchange.fetch_my_trades(BTC, params={"orderId": second["id"]})
    assert [t["order"] for t in only_second] == [second["id"]]


async def test_a_ticker_shows_the_current_price(exchange: Any) -> None:
    ticker = await exchange.fetch_ticker("ETH/USDT")
    assert ticker["last"] == 3000.0


async def test_all_orders_lists_open_and_finished_orders_oldest_first(exchange: Any) -> None:
    filled = await exchange.create_order(BTC, "market", "buy", 0.01)
    resting = await exchange.create_order(BTC, "limit", "buy", 0.01, 50000)
    orders = await exchange.fetch_orders(BTC)
    assert [(o["id"], o["status"]) for o in orders] == [
        (filled["id"], "closed"),
        (resting["id"], "open"),
    ]


async def test_last_prices_cover_every_market(exchange: Any) -> None:
    prices = await exchange.fetch_last_prices()
    assert prices["BTC/USDT"]["price"] == 60000.0
    assert set(prices) == set(exchange.symbols)

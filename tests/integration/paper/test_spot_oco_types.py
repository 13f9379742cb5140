"""Spot stop-loss, take-profit and post-only orders, placed with ccxt's own create_order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt
import pytest

from tests.helpers.paper import PaperAccount, PaperExchangeProcess

BTC = "BTC/USDT"


async def test_every_market_lists_the_stop_and_post_only_order_types(exchange: Any) -> None:
    info = exchange.market(BTC)["info"]
    assert info["orderTypes"] == [
        "LIMIT",
        "LIMIT_MAKER",
        "MARKET",
        "STOP_LOSS",
        "STOP_LOSS_LIMIT",
        "TAKE_PROFIT",
        "TAKE_PROFIT_LIMIT",
    ]
    assert info["ocoAllowed"] is True


async def test_a_stop_loss_waits_locked_then_sells_at_the_market_when_the_price_falls_to_it(
    exchange: Any, paper: PaperExchangeProcess, account: PaperAccount
) -> None:
    order = await exchange.create_order(
        BTC, "market", "sell", 0.01, None, {"stopLossPrice": 59000, "clientOrderId": "sl-1"}
    )
    assert (order["status"], order["info"]["type"], order["triggerPrice"]) == (
        "open",
        "STOP_LOSS",
        59000.0,
    )
    assert order["info"]["workingTime"] == -1
    waiting = await exchange.fetch_order(None, BTC, {"origClientOrderId": "sl-1"})
    assert (waiting["status"], waiting["info"]["isWorking"]) == ("open", False)
    assert (await paper.balances(account.account_id))["BTC"] == (Decimal("0.99"), Decimal("0.01"))
    await paper.set_prices({"BTCUSDT": "59000.01"})
    assert (await exchange.fetch_order(order["id"], BTC))["status"] == "open"
    assert await paper.set_prices({"BTCUSDT": "58900"}) >= 1
    done = await exchange.fetch_order(order["id"], BTC)
    assert (done["status"], done["filled"], done["type"]) == ("closed", 0.01, "market")
    [trade] = await exchange.fetch_my_trades(BTC, params={"orderId": order["id"]})
    assert (trade["price"], trade["takerOrMaker"]) == (58900.0, "taker")
    assert trade["fee"] == {"cost": 0.589, "currency": "USDT"}
    assert (await paper.balances(account.account_id))["BTC"] == (Decimal("0.99"), Decimal(0))


async def test_a_take_profit_limit_triggers_when_the_price_rises_and_trades_at_its_limit(
    exchange: Any, paper: PaperExchangeProcess
) -> None:
    order = await exchange.create_order(
        BTC, "limit", "sell", 0.01, 61000, {"takeProfitPrice": 61000}
    )
    assert (order["info"]["type"], order["takeProfitPrice"]) == ("TAKE_PROFIT_LIMIT", 61000.0)
    await paper.set_prices({"BTCUSDT": "61500"})
    done = await exchange.fetch_order(order["id"], BTC)
    assert (done["status"], done["average"]) == ("closed", 61500.0)  # better than its limit


async def test_a_triggered_stop_limit_rests_at_its_limit_until_the_price_comes_back(
    exchange: Any, paper: PaperExchangeProcess
) -> None:
    order = await exchange.create_order(BTC, "limit", "sell", 0.01, 58900, {"stopLossPrice": 59000})
    assert order["info"]["type"] == "STOP_LOSS_LIMIT"
    await paper.set_prices({"BTCUSDT": "58500"})  # through the stop and past the limit
    resting = await exchange.fetch_order(order["id"], BTC)
    assert (resting["status"], resting["info"]["isWorking"]) == ("open", True)
    await paper.set_prices({"BTCUSDT": "58900"})
    done = await exchange.fetch_order(order["id"], BTC)
    assert (done["status"], done["average"]) == ("closed", 58900.0)
    [trade] = await exchange.fetch_my_trades(BTC)
    assert trade["takerOrMaker"] == "maker"


async def test_a_buy_stop_waits_for_the_price_to_rise(
    exchange: Any, paper: PaperExchangeProcess
) -> None:
    order = await exchange.create_order(BTC, "market", "buy", 0.01, None, {"triggerPrice": 61000})
    assert order["info"]["type"] == "STOP_LOSS"
    assert (await exchange.fetch_balance())["USDT"]["used"] == 610.0
    await paper.set_prices({"BTCUSDT": "60999.99"})
    assert (await exchange.fetch_order(order["id"], BTC))["status"] == "open"
    await paper.set_prices({"BTCUSDT": "61000"})
    assert (await exchange.fetch_order(order["id"], BTC))["status"] == "closed"
    balance = await exchange.fetch_balance()
    assert balance["USDT"] == {"free": 9390.0, "used": 0.0, "total": 9390.0}


async def test_a_stop_the_price_already_passed_is_refused_as_immediately_fillable(
    exchange: Any,
) -> None:
    with pytest.raises(ccxt.OrderImmediatelyFillable, match="Stop price would trigger"):
        await exchange.create_order(BTC, "market", "sell", 0.01, None, {"stopLossPrice": 60000})
    assert (await exchange.fetch_balance())["BTC"]["used"] == 0.0


async def test_a_post_only_order_rests_as_limit_maker_or_is_refused_if_it_would_take(
    exchange: Any,
) -> None:
    resting = await exchange.create_order(BTC, "limit", "sell", 0.01, 62000, {"postOnly": True})
    assert (resting["status"], resting["postOnly"], resting["info"]["type"]) == (
        "open",
        True,
        "LIMIT_MAKER",
    )
    with pytest.raises(ccxt.OrderImmediatelyFillable, match="immediately match and take"):
        await exchange.create_order(BTC, "limit", "sell", 0.01, 59000, {"postOnly": True})


async def test_a_canceled_stop_gives_its_locked_amount_back(exchange: Any) -> None:
    order = await exchange.create_order(BTC, "market", "sell", 0.01, None, {"stopLossPrice": 59000})
    canceled = await exchange.cancel_order(order["id"], BTC)
    assert (canceled["status"], canceled["info"]["stopPrice"]) == ("canceled", "59000.00000000")
    assert (await exchange.fetch_balance())["BTC"] == {"free": 1.0, "used": 0.0, "total": 1.0}

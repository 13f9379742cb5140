"""Take-profit, stop-loss and trailing stops as ccxt 4.5.90 sends them: Binance's Algo
Service (``/fapi/v1/algoOrder``), triggered by the paper exchange's price feed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import ccxt.async_support as ccxt
import pytest

from tests.helpers.paper import PaperAccount, PaperExchangeProcess

BTC = "BTC/USDT:USDT"
TRIGGER = {"trigger": True}


@pytest.fixture
async def futures(paper: PaperExchangeProcess) -> AsyncIterator[Any]:
    """ccxt's binanceusdm on a fresh account holding 10,000 USDT of futures wallet."""
    trader: PaperAccount = await paper.create_account({}, futures_wallet="10000")
    client = paper.futures_client(trader)
    await client.load_markets()
    yield client
    await client.close()


async def _long(futures: Any) -> None:
    await futures.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "entry"})


async def test_take_profit_fills_when_the_price_passes_it_and_the_stop_stays(
    paper: PaperExchangeProcess, futures: Any
) -> None:
    await _long(futures)
    tp = await futures.create_order(
        BTC, "market", "sell", 0.01, None,
        {"takeProfitPrice": 61200, "reduceOnly": True, "clientOrderId": "tp-1"},
    )  # fmt: skip
    sl = await futures.create_order(
        BTC, "market", "sell", 0.01, None,
        {"stopLossPrice": 59400, "reduceOnly": True, "clientOrderId": "sl-1"},
    )  # fmt: skip
    assert (tp["clientOrderId"], tp["status"], tp["triggerPrice"]) == ("tp-1", "open", 61200)
    assert tp["info"]["orderType"] == "TAKE_PROFIT_MARKET"
    assert sl["info"]["orderType"] == "STOP_MARKET"
    waiting = await futures.fetch_open_orders(BTC, params=TRIGGER)
    assert {o["clientOrderId"] for o in waiting} == {"tp-1", "sl-1"}
    assert await futures.fetch_open_orders(BTC) == []

    await paper.set_prices({"BTCUSDT": "61300"})

    done = await futures.fetch_order(None, BTC, {"clientOrderId": "tp-1", **TRIGGER})
    assert done["status"] == "closed"
    assert done["info"]["algoStatus"] == "FINISHED"
    fill = await futures.fetch_order(done["info"]["actualOrderId"], BTC)
    assert (fill["status"], fill["average"], fill["clientOrderId"]) == ("closed", 61300, "tp-1")
    assert await futures.fetch_positions([BTC]) == []
    assert (await futures.fetch_my_trades(BTC))[-1]["info"]["realizedPnl"] == "13"
    still = await futures.fetch_open_orders(BTC, params=TRIGGER)
    assert [o["clientOrderId"] for o in still] == ["sl-1"]
    await futures.cancel_order(sl["id"], BTC, TRIGGER)
    assert await futures.fetch_open_orders(BTC, params=TRIGGER) == []
    with pytest.raises(ccxt.OrderNotFound):
        await futures.cancel_order(sl["id"], BTC, TRIGGER)


async def test_a_triggered_reduce_only_stop_on_a_flat_position_expires(
    paper: PaperExchangeProcess, futures: Any
) -> None:
    await _long(futures)
    sl = await futures.create_order(
        BTC, "market", "sell", 0.01, None, {"stopLossPrice": 59000, "reduceOnly": True}
    )
    await futures.create_order(BTC, "market", "sell", 0.01, None, {"reduceOnly": True})
    await paper.set_prices({"BTCUSDT": "58000"})
    expired = await futures.fetch_order(sl["id"], BTC, TRIGGER)
    assert expired["status"] == "expired"
    assert await futures.fetch_positions([BTC]) == []


async def test_close_position_stop_closes_the_whole_position(
    paper: PaperExchangeProcess, futures: Any
) -> None:
    await futures.create_order(BTC, "market", "sell", 0.02)
    stop = await futures.create_order(
        BTC, "market", "buy", None, None, {"stopLossPrice": 61000, "closePosition": True}
    )
    assert stop["info"]["closePosition"] is True
    await paper.set_prices({"BTCUSDT": "61500"})
    assert (await futures.fetch_order(stop["id"], BTC, TRIGGER))["status"] == "closed"
    assert await futures.fetch_positions([BTC]) == []


async def test_an_order_that_would_trigger_at_once_is_refused(futures: Any) -> None:
    await _long(futures)
    with pytest.raises(ccxt.OrderImmediatelyFillable, match="Order would immediately trigger"):
        await futures.create_order(
            BTC, "market", "sell", 0.01, None, {"stopLossPrice": 60500, "reduceOnly": True}
        )
    with pytest.raises(ccxt.OrderImmediatelyFillable):
        await futures.create_order(
            BTC, "market", "sell", 0.01, None, {"takeProfitPrice": 59500, "reduceOnly": True}
        )


async def test_a_stop_limit_rests_as_a_limit_order_once_triggered(
    paper: PaperExchangeProcess, futures: Any
) -> None:
    await _long(futures)
    stop = await futures.create_order(
        BTC, "limit", "sell", 0.01, 58000, {"stopLossPrice": 59000, "reduceOnly": True}
    )
    assert stop["info"]["orderType"] == "STOP"
    await paper.set_prices({"BTCUSDT": "58900"})
    triggered = await futures.fetch_order(stop["id"], BTC, TRIGGER)
    assert triggered["info"]["algoStatus"] == "FINISHED"  # 58900 >= 58000: filled at once


async def test_trailing_stop_follows_the_best_price_and_fires_on_the_pull_back(
    paper: PaperExchangeProcess, futures: Any
) -> None:
    await _long(futures)
    trail = await futures.create_order(
        BTC, "market", "sell", 0.01, None, {"trailingPercent": 1, "reduceOnly": True}
    )
    assert trail["info"]["orderType"] == "TRAILING_STOP_MARKET"
    await paper.set_prices({"BTCUSDT": "62000"})
    await paper.set_prices({"BTCUSDT": "61500"})  # 0.8 % below the best: holds
    assert (await futures.fetch_order(trail["id"], BTC, TRIGGER))["status"] == "open"
    await paper.set_prices({"BTCUSDT": "61300"})  # 1.1 % below 62,000: fires
    assert (await futures.fetch_order(trail["id"], BTC, TRIGGER))["status"] == "closed"
    assert await futures.fetch_positions([BTC]) == []
    with pytest.raises(ccxt.BadRequest):
        await futures.create_order(BTC, "market", "sell", 0.01, None, {"trailingPercent": 20})


async def test_cancel_all_algo_orders_of_a_symbol(futures: Any) -> None:
    await _long(futures)
    for price in (61000, 62000):
        await futures.create_order(
            BTC, "market", "sell", 0.01, None, {"takeProfitPrice": price, "reduceOnly": True}
        )
    await futures.cancel_all_orders(BTC, TRIGGER)
    assert await futures.fetch_open_orders(BTC, params=TRIGGER) == []

"""USDⓈ-M perpetuals through ccxt's unmodified ``binanceusdm`` class and the recipe.

Every call a futures executor makes round-trips: markets, balance, leverage, margin mode,
position mode, market and limit orders, positions with entry price, realized PnL in the
trades and the wallet, and Binance's refusals raised as ccxt's usual classes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt
import pytest

from tests.helpers.paper import PaperAccount, PaperExchangeProcess

BTC = "BTC/USDT:USDT"
ETH = "ETH/USDT:USDT"


@pytest.fixture
async def trader(paper: PaperExchangeProcess) -> PaperAccount:
    """A fresh account with 10,000 USDT in its futures wallet."""
    return await paper.create_account({}, label="futures", futures_wallet="10000")


@pytest.fixture
async def futures(paper: PaperExchangeProcess, trader: PaperAccount) -> AsyncIterator[Any]:
    """ccxt's binanceusdm on the trader's account, markets loaded."""
    client = paper.futures_client(trader)
    await client.load_markets()
    yield client
    await client.close()


async def _position(futures: Any, symbol: str = BTC) -> dict[str, Any] | None:
    found = await futures.fetch_positions([symbol])
    return found[0] if found else None


async def test_markets_are_linear_perpetuals_with_binance_filters(futures: Any) -> None:
    market = futures.market(BTC)
    assert market["swap"]
    assert market["linear"]
    assert market["settle"] == "USDT"
    assert market["precision"] == {"amount": 0.001, "price": 0.1, "base": 1e-08, "quote": 1e-08}
    assert market["limits"]["cost"]["min"] == 100
    assert "SOL/USDT:USDT" in futures.markets
    assert all(m["type"] == "swap" for m in futures.markets.values())


async def test_balance_shows_the_usdt_futures_wallet(futures: Any) -> None:
    balance = await futures.fetch_balance()
    assert balance["USDT"] == {"free": 10000.0, "used": 0.0, "total": 10000.0}


async def test_leverage_margin_mode_and_one_way_mode_are_set_like_binance(futures: Any) -> None:
    assert (await futures.set_leverage(5, BTC))["leverage"] == 5
    with pytest.raises(ccxt.BadRequest):
        await futures.set_leverage(200, BTC)
    await futures.set_margin_mode("isolated", BTC)
    with pytest.raises(ccxt.MarginModeAlreadySet):
        await futures.set_margin_mode("isolated", BTC)
    assert (await futures.fetch_position_mode(BTC))["hedged"] is False
    with pytest.raises(ccxt.ExchangeError, match="-4059"):
        await futures.set_position_mode(hedged=False, symbol=BTC)
    with pytest.raises(ccxt.ExchangeError, match="-4068"):
        await futures.set_position_mode(hedged=True, symbol=BTC)
    await futures.create_order(BTC, "market", "buy", 0.01)
    position = await _position(futures)
    assert position is not None
    assert position["marginMode"] == "isolated"
    assert position["collateral"] == pytest.approx(600 / 5, rel=0.01)
    with pytest.raises(ccxt.ExchangeError, match="-4048"):
        await futures.set_margin_mode("cross", BTC)


async def test_a_long_averages_its_entry_and_books_realized_pnl_on_close(
    paper: PaperExchangeProcess, futures: Any, trader: PaperAccount
) -> None:
    first = await futures.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "l1"})
    assert (first["status"], first["filled"], first["average"]) == ("closed", 0.01, 60000)
    await paper.set_prices({"BTCUSDT": "62000"})
    await futures.create_order(BTC, "market", "buy", 0.01)
    position = await _position(futures)
    assert position is not None
    assert (position["side"], position["contracts"], position["entryPrice"]) == (
        "long",
        0.02,
        61000,
    )
    assert position["unrealizedPnl"] == pytest.approx(20)
    await paper.set_prices({"BTCUSDT": "63000"})
    close = await futures.create_order(BTC, "market", "sell", 0.02, None, {"reduceOnly": True})
    assert close["reduceOnly"] is True
    assert await _position(futures) is None
    trades = await futures.fetch_my_trades(BTC)
    assert [t["info"]["realizedPnl"] for t in trades] == ["0", "0", "40"]
    fees = sum(Decimal(str(t["fee"]["cost"])) for t in trades)
    assert fees == Decimal("0.0005") * (600 + 620 + 1260)
    wallet = (await paper.futures(trader.account_id))["wallet"]
    assert Decimal(wallet) == 10000 + 40 - fees


async def test_a_short_gains_when_the_price_falls_and_can_flip_to_long(
    paper: PaperExchangeProcess, futures: Any
) -> None:
    await futures.create_order(ETH, "market", "sell", 1)
    short = await _position(futures, ETH)
    assert short is not None
    assert (short["side"], short["contracts"], short["entryPrice"]) == ("short", 1, 3000)
    await paper.set_prices({"ETHUSDT": "2900"})
    await futures.create_order(ETH, "market", "buy", 3)
    flipped = await _position(futures, ETH)
    assert flipped is not None
    assert (flipped["side"], flipped["contracts"], flipped["entryPrice"]) == ("long", 2, 2900)
    assert (await futures.fetch_my_trades(ETH))[-1]["info"]["realizedPnl"] == "100"


async def test_limit_orders_rest_fill_when_crossed_and_cancel(
    paper: PaperExchangeProcess, futures: Any
) -> None:
    resting = await futures.create_order(BTC, "limit", "buy", 0.01, 59000, {"clientOrderId": "r1"})
    assert resting["status"] == "open"
    other = await futures.create_order(BTC, "limit", "buy", 0.01, 58000)
    assert {o["id"] for o in await futures.fetch_open_orders(BTC)} == {resting["id"], other["id"]}
    canceled = await futures.cancel_order(other["id"], BTC)
    assert canceled["status"] == "canceled"
    with pytest.raises(ccxt.OrderNotFound):
        await futures.cancel_order(other["id"], BTC)
    await paper.set_prices({"BTCUSDT": "58900"})
    filled = await futures.fetch_order(None, BTC, {"clientOrderId": "r1"})
    assert (filled["status"], filled["average"]) == ("closed", 59000)
    assert (await futures.fetch_my_trades(BTC))[-1]["takerOrMaker"] == "maker"
    await futures.create_order(BTC, "limit", "sell", 0.01, 65000)
    await futures.cancel_all_orders(BTC)
    assert await futures.fetch_open_orders(BTC) == []


async def test_reduce_only_that_would_open_or_flip_is_refused(futures: Any) -> None:
    with pytest.raises(ccxt.InvalidOrder, match="ReduceOnly Order is rejected"):
        await futures.create_order(BTC, "market", "sell", 0.01, None, {"reduceOnly": True})
    await futures.create_order(BTC, "market", "buy", 0.01)
    with pytest.raises(ccxt.InvalidOrder, match="-2022"):
        await futures.create_order(BTC, "market", "buy", 0.01, None, {"reduceOnly": True})
    with pytest.raises(ccxt.InvalidOrder, match="-2022"):
        await futures.create_order(BTC, "market", "sell", 0.02, None, {"reduceOnly": True})


async def test_an_order_beyond_the_margin_is_refused(futures: Any) -> None:
    await futures.set_leverage(2, BTC)
    with pytest.raises(ccxt.InsufficientFunds, match="Margin is insufficient"):
        await futures.create_order(BTC, "market", "buy", 0.4)  # 24,000 at 2x needs 12,000
    await futures.create_order(BTC, "market", "buy", 0.3)  # 9,000 of margin
    with pytest.raises(ccxt.InsufficientFunds):
        await futures.create_order(BTC, "limit", "buy", 0.05, 50000)


async def test_duplicate_client_ids_and_bad_input_are_refused(futures: Any) -> None:
    await futures.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "dup"})
    with pytest.raises(ccxt.InvalidOrder, match="Duplicate order sent"):
        await futures.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "dup"})
    with pytest.raises(ccxt.InvalidOrder):
        await futures.create_order(BTC, "market", "buy", 0.0001)
    with pytest.raises(ccxt.InvalidOrder, match="-4164"):
        await futures.create_order(BTC, "market", "buy", 0.001)  # 60 < 100
    with pytest.raises(ccxt.OrderNotFound):
        await futures.fetch_order("999999", BTC)


async def test_mark_price_and_funding_rate_come_from_premium_index(futures: Any) -> None:
    mark = await futures.fetch_mark_price(BTC)
    assert mark["markPrice"] == 60000
    rate = await futures.fetch_funding_rate(BTC)
    assert rate["fundingRate"] == 0.0001
    assert rate["fundingTimestamp"] > rate["timestamp"]

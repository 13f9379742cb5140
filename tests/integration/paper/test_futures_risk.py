"""Liquidation, funding and durability of futures state, through ccxt's binanceusdm."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.paper import PaperExchangeProcess, paper_exchange
from tests.helpers.polling import eventually

BTC = "BTC/USDT:USDT"


async def test_a_position_past_its_liquidation_price_is_closed_and_its_margin_lost(
    paper: PaperExchangeProcess,
) -> None:
    trader = await paper.create_account({}, futures_wallet="1000")
    futures = paper.futures_client(trader)
    try:
        await futures.load_markets()
        await futures.set_margin_mode("isolated", BTC)
        await futures.set_leverage(10, BTC)
        await futures.create_order(BTC, "market", "buy", 0.1)  # 6,000 notional, 600 margin
        [position] = await futures.fetch_positions([BTC])
        liquidation = Decimal(str(position["liquidationPrice"]))
        assert Decimal(54000) < liquidation < Decimal(54300)
        await paper.set_prices({"BTCUSDT": "54500"})
        assert len(await futures.fetch_positions([BTC])) == 1
        await paper.set_prices({"BTCUSDT": "54000"})
        assert await futures.fetch_positions([BTC]) == []
        trades = await futures.fetch_my_trades(BTC)
        assert trades[-1]["side"] == "sell"
        closing = await futures.fetch_order(trades[-1]["order"], BTC)
        assert closing["clientOrderId"].startswith("autoclose-")
        wallet = Decimal((await paper.futures(trader.account_id))["wallet"])
        fees = Decimal("0.0005") * (6000 + 5400)  # the entry and the liquidation's taker fees
        assert wallet == Decimal(1000) - 600 - fees
    finally:
        await futures.close()


async def test_funding_is_paid_by_longs_and_listed_in_the_funding_history(
    paper: PaperExchangeProcess,
) -> None:
    long_side = await paper.create_account({}, futures_wallet="10000")
    short_side = await paper.create_account({}, futures_wallet="10000")
    longs, shorts = paper.futures_client(long_side), paper.futures_client(short_side)
    try:
        await longs.create_order(BTC, "market", "buy", 0.1)
        await shorts.create_order(BTC, "market", "sell", 0.1)
        assert await paper.settle_funding() >= 2
        [paid] = await longs.fetch_funding_history(BTC)
        [received] = await shorts.fetch_funding_history(BTC)
        assert paid["amount"] == pytest.approx(-0.6)  # 6,000 x 0.0001
        assert received["amount"] == pytest.approx(0.6)
        assert paid["id"]
        assert paid["info"]["incomeType"] == "FUNDING_FEE"
    finally:
        await longs.close()
        await shorts.close()


async def test_funding_is_paid_every_interval_by_the_exchange_itself(tmp_path: Path) -> None:
    settings = {"funding_interval_s": "1"}
    with paper_exchange(tmp_path, settings) as paper:
        trader = await paper.create_account({}, futures_wallet="10000")
        futures = paper.futures_client(trader)
        try:
            await futures.create_order(BTC, "market", "sell", 0.1)
            rows = await eventually(
                lambda: futures.fetch_funding_history(BTC),
                until=lambda found: len(found) >= 2,
                what="two funding payments",
            )
            assert all(row["amount"] == pytest.approx(0.6) for row in rows)
        finally:
            await futures.close()


async def test_positions_settings_and_algo_orders_survive_a_kill(tmp_path: Path) -> None:
    with paper_exchange(tmp_path) as paper:
        trader = await paper.create_account({}, futures_wallet="10000")
        futures = paper.futures_client(trader)
        try:
            await futures.set_leverage(7, BTC)
            await futures.create_order(BTC, "market", "buy", 0.05)
            stop = await futures.create_order(
                BTC, "market", "sell", 0.05, None, {"stopLossPrice": 58000, "reduceOnly": True}
            )
            before: Any = await paper.futures(trader.account_id)
            paper.kill()
            paper.start()
            after: Any = await paper.futures(trader.account_id)
            assert after == before
            assert after["positions"][0]["leverage"] == 7
            waiting = await futures.fetch_open_orders(BTC, params={"trigger": True})
            assert [o["id"] for o in waiting] == [stop["id"]]
            await paper.set_prices({"BTCUSDT": "57000"})
            assert await futures.fetch_positions([BTC]) == []
        finally:
            await futures.close()

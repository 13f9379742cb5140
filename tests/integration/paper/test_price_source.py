"""A paper exchange whose prices follow a venue's public tickers, read through ccxt.

No internet: the "real market" is a second paper exchange whose prices the test sets through
its admin API; the first one's ``ccxt:binance`` source is pointed at it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt.async_support as ccxt_async
import httpx
import pytest

from tests.helpers.paper import PaperExchangeProcess, ccxt_config, paper_exchange
from tests.helpers.polling import eventually

INTERVAL_S = 0.2


@pytest.fixture
def market(tmp_path: Path) -> Iterator[PaperExchangeProcess]:
    """The venue: fixed prices, set by the test."""
    (tmp_path / "market").mkdir()
    with paper_exchange(tmp_path / "market") as process:
        yield process


@pytest.fixture
async def follower(
    market: PaperExchangeProcess, tmp_path: Path
) -> AsyncIterator[PaperExchangeProcess]:
    """The paper exchange under test, its prices following ``market``'s tickers."""
    await market.set_prices({"BTCUSDT": "61234.5", "ETHUSDT": "2345.67"})
    (tmp_path / "follower").mkdir()
    settings = {
        "price_source": "ccxt:binance",
        "price_source_url": f"{market.base_url}/api/v3",
        "price_source_interval_s": str(INTERVAL_S),
    }
    with paper_exchange(tmp_path / "follower", settings) as process:
        yield process


async def _price(exchange: PaperExchangeProcess, symbol: str) -> Decimal:
    async with httpx.AsyncClient(base_url=exchange.base_url) as client:
        answer = await client.get("/api/v3/ticker/price", params={"symbol": symbol})
    return Decimal(answer.json()["price"])


async def _metric(exchange: PaperExchangeProcess, name: str) -> float:
    """Return the sum of the metric's samples (of every label)."""
    async with httpx.AsyncClient(base_url=exchange.base_url) as client:
        text = (await client.get("/metrics")).text
    samples = [line.rsplit(" ", 1) for line in text.splitlines() if line.startswith(name)]
    return sum(float(value) for sample, value in samples if sample.partition("{")[0] == name)


async def test_tickers_follow_the_venue_from_the_start_and_as_it_moves(
    market: PaperExchangeProcess, follower: PaperExchangeProcess
) -> None:
    assert await _price(follower, "BTCUSDT") == Decimal("61234.5")
    assert await _price(follower, "ETHUSDT") == Decimal("2345.67")
    await market.set_prices({"BTCUSDT": "62000.01"})

    async def moved() -> bool:
        return await _price(follower, "BTCUSDT") == Decimal("62000.01")

    await eventually(moved, what="the follower's BTCUSDT at the venue's new price")
    assert await _metric(follower, "sparky_paper_price_source_stale") == 0


async def test_a_resting_order_fills_when_the_venue_crosses_it(
    market: PaperExchangeProcess, follower: PaperExchangeProcess
) -> None:
    account = await follower.create_account({"USDT": "10000"})
    client: Any = ccxt_async.binance(
        ccxt_config(follower.base_url, account.api_key, account.secret)
    )
    try:
        order = await client.create_order("BTC/USDT", "limit", "buy", 0.01, 60000)
        assert order["status"] == "open"
        await market.set_prices({"BTCUSDT": "59990"})

        async def filled() -> bool:
            found = await client.fetch_order(order["id"], "BTC/USDT")
            return bool(found["status"] == "closed")

        await eventually(filled, what="the limit buy filled on the follower")
        balance = await client.fetch_balance()
        assert Decimal(str(balance["BTC"]["total"])) > 0
    finally:
        await client.close()


async def test_when_the_venue_goes_away_the_last_prices_hold_and_are_marked_stale(
    market: PaperExchangeProcess, follower: PaperExchangeProcess
) -> None:
    market.stop()

    async def stale() -> bool:
        return await _metric(follower, "sparky_paper_price_source_stale") == 1

    await eventually(stale, what="the price source marked stale")
    assert await _price(follower, "BTCUSDT") == Decimal("61234.5")
    assert await _metric(follower, "sparky_paper_price_source_errors_total") >= 1

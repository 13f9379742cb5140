"""Prices that follow a venue's tickers: what is quoted, what is not, and what a failure keeps.

The venue here is a stand-in holding a ticker table (the integration test reads a real paper
exchange through ccxt instead).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from prometheus_client import REGISTRY
from pydantic import ValidationError

from libs.common.errors import ConfigurationError
from services.paper import markets
from services.paper.config import PaperSettings
from services.paper.live_prices import TickerFeed, TickerPoller, new_client
from services.paper.prices import ReferenceFeed
from services.paper.runtime import ticker_poller

LISTED = markets.index(markets.CATALOGUE)
BTC, ETH = LISTED["BTCUSDT"], LISTED["ETHUSDT"]


class Venue:
    """A venue that lists BTC/USDT only, and fails when told to."""

    def __init__(self) -> None:
        self.markets: dict[str, Any] = {}
        self.tickers: dict[str, dict[str, Any]] = {"BTC/USDT": {"last": 91234.567}}
        self.failing = False

    async def load_markets(self) -> None:
        self.markets = {"BTC/USDT": {}}

    async def fetch_tickers(self, symbols: list[str]) -> dict[str, Any]:
        if self.failing:
            raise TimeoutError
        return {s: self.tickers[s] for s in symbols}


def _stale() -> float | None:
    return REGISTRY.get_sample_value("sparky_paper_price_source_stale")


async def test_a_quoted_market_follows_the_venue_on_its_tick_and_others_the_fallback() -> None:
    feed = TickerFeed(ReferenceFeed())
    await TickerPoller(Venue(), feed, LISTED, 1).refresh()
    assert feed.price(BTC, 0) == Decimal("91234.57")
    assert feed.price(ETH, 0) == ETH.reference_price
    assert (
        REGISTRY.get_sample_value("sparky_paper_price_source_fallback_markets") == len(LISTED) - 1
    )


async def test_a_failed_refresh_keeps_the_last_price_and_marks_it_stale() -> None:
    venue, feed = Venue(), TickerFeed(ReferenceFeed())
    poller = TickerPoller(venue, feed, LISTED, 1)
    await poller.refresh()
    venue.failing, venue.tickers["BTC/USDT"] = True, {"last": 1}
    await poller.refresh()
    assert feed.price(BTC, 0) == Decimal("91234.57")
    assert _stale() == 1
    venue.failing = False
    await poller.refresh()
    assert feed.price(BTC, 0) == Decimal(1)
    assert _stale() == 0


async def test_a_ticker_without_a_usable_price_changes_nothing() -> None:
    venue, feed = Venue(), TickerFeed(ReferenceFeed())
    poller = TickerPoller(venue, feed, LISTED, 1)
    for ticker in ({"last": None, "close": None}, {"last": "nan"}, {"last": -5}):
        venue.tickers["BTC/USDT"] = ticker
        await poller.refresh()
        assert feed.price(BTC, 0) == BTC.reference_price


def test_a_price_above_the_markets_limit_is_held_at_it() -> None:
    feed = TickerFeed(ReferenceFeed())
    feed.update({"BTCUSDT": BTC.max_price * 2})
    assert feed.price(BTC, 0) == BTC.max_price


async def test_the_url_replaces_the_public_api_root_only() -> None:
    client = new_client("binance", "http://127.0.0.1:1/api/v3/")
    try:
        assert client.urls["api"]["public"] == "http://127.0.0.1:1/api/v3"
        assert client.urls["api"]["private"].startswith("https://api.binance.com")
    finally:
        await client.close()


def test_an_unknown_venue_or_source_is_refused_at_start() -> None:
    with pytest.raises(ConfigurationError, match="ccxt does not know"):
        ticker_poller(PaperSettings(price_source="ccxt:nosuchvenue"))
    with pytest.raises(ValidationError):
        PaperSettings(price_source="binance")
    assert ticker_poller(PaperSettings()) is None  # synthetic, the default

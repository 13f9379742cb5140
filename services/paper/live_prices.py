"""Prices that follow a real venue: its public tickers, read through ccxt's async API.

`TickerFeed` is a `PriceFeed` holding the last price read for each market; `TickerPoller`
refreshes it with one ``fetch_tickers`` call per interval. A market the venue does not list
follows the fallback feed (the synthetic walk), so every market stays tradable. A failed
refresh keeps the last prices, marks them stale in a metric and never stops the exchange.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import ccxt.async_support as ccxt_async

from services.paper.markets import Market
from services.paper.metrics import (
    PRICE_SOURCE_ERRORS,
    PRICE_SOURCE_FALLBACK,
    PRICE_SOURCE_STALE,
    PRICE_SOURCE_UPDATED,
)
from services.paper.prices import PriceFeed, on_tick

_log = logging.getLogger(__name__)
CCXT_PREFIX = "ccxt:"
# The keys of ccxt's ``urls['api']`` that hold a venue's public REST root.
_PUBLIC_API_KEYS = ("public", "rest")


class TickerFeed:
    """The last price the venue quoted for each market, else the fallback feed's."""

    def __init__(self, fallback: PriceFeed) -> None:
        self._fallback = fallback
        self._last: dict[str, Decimal] = {}

    def price(self, market: Market, now_ms: int) -> Decimal:
        """Return the venue's last price on the market's tick and within its limits."""
        last = self._last.get(market.symbol)
        if last is None:
            return self._fallback.price(market, now_ms)
        return min(on_tick(market, last), market.max_price)

    def update(self, prices: Mapping[str, Decimal]) -> None:
        """Take new last prices, by exchange symbol (``BTCUSDT``)."""
        self._last.update(prices)


def ccxt_symbol(market: Market) -> str:
    """Return the venue's unified spot symbol of ``market`` (``BTC/USDT``)."""
    return f"{market.base}/{market.quote}"


def new_client(exchange_id: str, api_url: str | None) -> Any:
    """Return a ccxt async client of ``exchange_id``'s public API (no keys), spot markets only;
    ``api_url`` replaces the root of its public REST API.
    """
    config: dict[str, Any] = {
        "enableRateLimit": True,
        "options": {
            "defaultType": "spot",
            "fetchMarkets": {"types": ["spot"]},
            "fetchCurrencies": False,
            "fetchMargins": False,
        },
    }
    client = getattr(ccxt_async, exchange_id)(config)
    if api_url is not None:
        urls = client.urls.get("api")
        if isinstance(urls, dict):
            for key in _PUBLIC_API_KEYS:
                if key in urls:
                    urls[key] = api_url.rstrip("/")
        else:
            client.urls["api"] = api_url.rstrip("/")
    return client


class TickerPoller:
    """Refresh a `TickerFeed` from ``client`` every ``interval_s`` until cancelled."""

    def __init__(
        self, client: Any, feed: TickerFeed, markets: Mapping[str, Market], interval_s: float
    ) -> None:
        self._client = client
        self.feed = feed
        self._wanted = {ccxt_symbol(m): m.symbol for m in markets.values()}
        self._interval_s = interval_s
        self._listed: dict[str, str] | None = None  # ccxt symbol -> ours, once markets load

    async def run(self) -> None:
        """Refresh every interval until cancelled (after a first `refresh`); every failure is
        logged, counted and retried next round.
        """
        while True:
            await asyncio.sleep(self._interval_s)
            await self.refresh()

    async def close(self) -> None:
        """Close the venue's client."""
        await self._client.close()

    async def refresh(self) -> None:
        """Read the tickers once; keep the last prices when the venue cannot answer."""
        try:
            listed = await self._listed_symbols()
            tickers = await self._client.fetch_tickers(list(listed)) if listed else {}
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of the venue keeps the last prices
            PRICE_SOURCE_ERRORS.labels(type(exc).__name__).inc()
            PRICE_SOURCE_STALE.set(1)
            _log.warning("price source refresh failed", extra={"error": type(exc).__name__})
            return
        self.feed.update(_prices(tickers, listed))
        PRICE_SOURCE_STALE.set(0)
        PRICE_SOURCE_UPDATED.set(time.time())

    async def _listed_symbols(self) -> dict[str, str]:
        if self._listed is None:
            await self._client.load_markets()
            self._listed = {
                c: ours for c, ours in self._wanted.items() if c in self._client.markets
            }
            missing = sorted(set(self._wanted.values()) - set(self._listed.values()))
            PRICE_SOURCE_FALLBACK.set(len(missing))
            if missing:
                _log.warning(
                    "markets the price source does not list follow the synthetic walk",
                    extra={"markets": missing},
                )
        return self._listed


def _prices(tickers: Mapping[str, Any], listed: Mapping[str, str]) -> dict[str, Decimal]:
    found = {}
    for symbol, ours in listed.items():
        ticker = tickers.get(symbol) or {}
        price = _positive(ticker.get("last")) or _positive(ticker.get("close"))
        if price is not None:
            found[ours] = price
    return found


def _positive(value: object) -> Decimal | None:
    if value is None:
        return None
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        return None
    return price if price.is_finite() and price > 0 else None

"""Where prices come from: a feed (deterministic random walk, or fixed), and pinned overrides.

The random walk is a pure function of (seed, symbol, time bucket), so every replica and every
restart sees the same price at the same moment without sharing state. It sums octaves of
hashed value noise, each octave twice as long and sqrt(2) times as large as the one below:
the path moves by about ``volatility`` per bucket, like a random walk, yet stays within a band
around the market's reference price instead of drifting away over days.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Protocol

from services.paper.markets import Market

_OCTAVES = 16
_UNIT = 1 << 20
_WEIGHTS = tuple(Decimal(2).sqrt() ** k for k in range(_OCTAVES))
_BAND = Decimal("0.5")
_CACHE_SIZE = 4096


class PriceFeed(Protocol):
    """A source of the current price of a market."""

    def price(self, market: Market, now_ms: int) -> Decimal:
        """Return the price of ``market`` at ``now_ms`` (on the market's tick)."""
        ...


def on_tick(market: Market, value: Decimal) -> Decimal:
    """Round ``value`` to the market's tick, never below one tick."""
    ticks = (value / market.tick_size).to_integral_value(rounding=ROUND_HALF_EVEN)
    return max(ticks * market.tick_size, market.tick_size)


class ReferenceFeed:
    """A fixed feed: every market stays at its reference price."""

    def price(self, market: Market, now_ms: int) -> Decimal:
        """Return the market's reference price."""
        return market.reference_price


class RandomWalkFeed:
    """The deterministic random walk; ``volatility`` is the relative move per bucket."""

    def __init__(self, seed: str, bucket_ms: int, volatility: Decimal) -> None:
        self._key = hashlib.blake2b(seed.encode()).digest()[:32]
        self._bucket_ms = max(bucket_ms, 1)
        self._volatility = volatility
        self._cache: dict[tuple[str, int], Decimal] = {}

    def price(self, market: Market, now_ms: int) -> Decimal:
        """Return the walk's price for the bucket holding ``now_ms``."""
        key = (market.symbol, now_ms // self._bucket_ms)
        cached = self._cache.get(key)
        if cached is None:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            offset = max(min(self.offset(*key), _BAND), -_BAND)
            cached = self._cache[key] = on_tick(market, market.reference_price * (1 + offset))
        return cached

    def offset(self, symbol: str, bucket: int) -> Decimal:
        """Return the relative distance from the reference price in ``bucket``."""
        total = Decimal(0)
        for octave, weight in enumerate(_WEIGHTS):
            total += weight * self._octave(symbol, octave, bucket)
        return total * self._volatility / _UNIT

    def _octave(self, symbol: str, octave: int, bucket: int) -> int:
        span = 1 << octave
        cell, into = divmod(bucket, span)
        start, end = self._noise(symbol, octave, cell), self._noise(symbol, octave, cell + 1)
        return (start * (span - into) + end * into) // span

    def _noise(self, symbol: str, octave: int, cell: int) -> int:
        digest = hashlib.blake2b(
            f"{symbol}|{octave}|{cell}".encode(), key=self._key, digest_size=8
        ).digest()
        return int.from_bytes(digest, "big") % (2 * _UNIT + 1) - _UNIT


class PriceBoard:
    """The price of every market now: a pinned price if there is one, else the feed's."""

    def __init__(
        self,
        markets: Mapping[str, Market],
        feed: PriceFeed,
        configured: Mapping[str, Decimal] | None = None,
    ) -> None:
        self._markets = markets
        self._feed = feed
        self._configured = dict(configured or {})
        self._pinned: dict[str, Decimal] = {}

    def price(self, symbol: str, now_ms: int) -> Decimal:
        """Return the current price of ``symbol`` (a listed market)."""
        pinned = self._pinned.get(symbol) or self._configured.get(symbol)
        if pinned is not None:
            return pinned
        return self._feed.price(self._markets[symbol], now_ms)

    def pin(self, prices: Mapping[str, Decimal]) -> None:
        """Hold ``prices`` until unpinned (the admin API's fixed table)."""
        self._pinned.update(prices)

    def unpin_all(self) -> None:
        """Let every market follow the feed (or the configured table) again."""
        self._pinned.clear()

    def snapshot(self, now_ms: int) -> dict[str, Decimal]:
        """Return every market's current price."""
        return {symbol: self.price(symbol, now_ms) for symbol in self._markets}

"""The long-lived object: the state file, the spot and futures exchanges over it, the API-key
cache, the injected faults and the background work (ticker poller, matcher, funding,
checkpoints). Opened by the app's lifespan (`Runtime.open`), reached as `runtime_of(request)`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from ccxt.async_support import exchanges as ccxt_exchanges
from starlette.applications import Starlette
from starlette.requests import HTTPConnection

from libs.common.errors import ConfigurationError
from services.paper import markets
from services.paper.accounts import KeyRing
from services.paper.config import PaperSettings, PriceFeedKind
from services.paper.domain.futures import FuturesFees
from services.paper.domain.spot import Fees, check_price
from services.paper.errors import BinanceError
from services.paper.exchange import Clock, PaperExchange
from services.paper.faults import Faults
from services.paper.futures import markets as futures_markets
from services.paper.futures.engine import FuturesExchange, FuturesSettings
from services.paper.live_prices import CCXT_PREFIX, TickerFeed, TickerPoller, new_client
from services.paper.markets import Market
from services.paper.matcher import run_funding, run_matcher
from services.paper.prices import PriceBoard, PriceFeed, RandomWalkFeed, ReferenceFeed
from services.paper.store.database import Store


@dataclass(frozen=True, slots=True, kw_only=True)
class Runtime:
    """What the routes share, and the background work that runs while the app does."""

    settings: PaperSettings
    faults: Faults
    store: Store
    exchange: PaperExchange
    futures: FuturesExchange
    keys: KeyRing
    poller: TickerPoller | None
    tasks: tuple[asyncio.Task[None], ...]

    @classmethod
    async def open(cls, settings: PaperSettings, clock: Clock) -> Runtime:
        """Open the state file, assemble both exchanges and start the background work."""
        store = await Store.open(settings.state_path)
        poller = ticker_poller(settings)
        feed = None
        if poller is not None:
            # Venue prices from the first request on (the synthetic walk if it cannot answer).
            await poller.refresh()
            feed = poller.feed
        exchange = await build_exchange(settings, store, clock, feed)
        futures = build_futures(settings, exchange)
        tasks = (
            *([asyncio.create_task(poller.run())] if poller is not None else []),
            asyncio.create_task(run_matcher(exchange, futures, settings.match_interval_s)),
            asyncio.create_task(run_funding(futures, settings.match_interval_s)),
            asyncio.create_task(store.keep_checkpointing()),
        )
        keys = KeyRing(store, clock)
        return cls(
            settings=settings,
            faults=Faults(),
            store=store,
            exchange=exchange,
            futures=futures,
            keys=keys,
            poller=poller,
            tasks=tasks,
        )

    async def close(self) -> None:
        """Stop the background work, then close the ticker client and the state file."""
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.poller is not None:
            await self.poller.close()
        await self.store.close()


def runtime_of(owner: HTTPConnection | Starlette) -> Runtime:
    """Return the app's `Runtime`, from a request or from the app itself."""
    app = owner.app if isinstance(owner, HTTPConnection) else owner
    found: Runtime = app.state.runtime
    return found


def _feed(settings: PaperSettings) -> PriceFeed:
    if settings.price_feed is PriceFeedKind.FIXED:
        return ReferenceFeed()
    return RandomWalkFeed(settings.price_seed, settings.price_bucket_ms, settings.price_volatility)


def ticker_poller(settings: PaperSettings) -> TickerPoller | None:
    """The poller of ``ccxt:<id>`` (None: synthetic prices)."""
    if not settings.price_source.startswith(CCXT_PREFIX):
        return None
    exchange_id = settings.price_source.removeprefix(CCXT_PREFIX)
    if exchange_id not in ccxt_exchanges:
        raise ConfigurationError(
            f"SPARKY_PAPER_PRICE_SOURCE names {exchange_id!r}, which ccxt does not know"
        )
    client = new_client(exchange_id, settings.price_source_url)
    feed = TickerFeed(_feed(settings))
    listed = markets.index(markets.CATALOGUE)
    return TickerPoller(client, feed, listed, settings.price_source_interval_s)


def _configured_prices(settings: PaperSettings, listed: Mapping[str, Market]) -> dict[str, Decimal]:
    for symbol, price in settings.prices.items():
        if symbol not in listed:
            raise ConfigurationError(f"SPARKY_PAPER_PRICES names {symbol}, which is not listed")
        try:
            check_price(listed[symbol], price)
        except BinanceError:
            raise ConfigurationError(
                f"SPARKY_PAPER_PRICES: {symbol} at {price} is off its tick or limits"
            ) from None
    return settings.prices


async def build_exchange(
    settings: PaperSettings, store: Store, clock: Clock, feed: PriceFeed | None = None
) -> PaperExchange:
    """Assemble the exchange over an open store, with the prices pinned before a restart;
    ``feed`` replaces the configured synthetic feed (a venue's tickers).
    """
    listed = markets.index(markets.CATALOGUE)
    board = PriceBoard(listed, feed or _feed(settings), _configured_prices(settings, listed))
    pinned = await store.pinned_prices()
    board.pin({s: Decimal(p) for s, p in pinned.items() if s in listed})
    fees = Fees(settings.taker_fee, settings.maker_fee, settings.slippage_bps)
    return PaperExchange(store, listed, board, fees, clock)


def build_futures(settings: PaperSettings, exchange: PaperExchange) -> FuturesExchange:
    """Assemble the futures exchange over the spot exchange's store and price board."""
    fees = FuturesFees(
        taker=settings.futures_taker_fee,
        maker=settings.futures_maker_fee,
        slippage_bps=settings.slippage_bps,
        maintenance_rate=settings.maintenance_margin_rate,
        funding_rate=settings.funding_rate,
    )
    futures_settings = FuturesSettings(
        fees=fees,
        default_leverage=settings.futures_default_leverage,
        max_leverage=settings.futures_max_leverage,
        funding_interval_ms=max(int(settings.funding_interval_s * 1000), 1),
    )
    listed = futures_markets.listed()
    return FuturesExchange(
        exchange.store, listed, exchange.prices, futures_settings, exchange.clock
    )

"""Wiring of the paper exchange: state file, prices, matcher, routes and error shapes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from decimal import Decimal
from typing import Any

from ccxt.async_support import exchanges as ccxt_exchanges
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, Response

from libs.common import api as common_api
from libs.common.errors import ConfigurationError
from libs.common.ops import ops_router
from libs.common.service import bootstrap, mount_ops
from services.paper import markets
from services.paper.accounts import KeyRing
from services.paper.api import admin
from services.paper.api import futures as futures_api
from services.paper.api import spot as api
from services.paper.api.deps import InjectedServerError
from services.paper.api.order import plain_order_route
from services.paper.config import PaperSettings, PriceFeedKind
from services.paper.domain.futures import FuturesFees
from services.paper.domain.spot import Fees, check_price
from services.paper.errors import BinanceError
from services.paper.exchange import Clock, PaperExchange, wall_clock_ms
from services.paper.faults import Faults
from services.paper.futures import markets as futures_markets
from services.paper.futures.engine import FuturesExchange, FuturesSettings
from services.paper.limits import WeightCounter, WeightLimitMiddleware, WeightLimits
from services.paper.live_prices import CCXT_PREFIX, TickerFeed, TickerPoller, new_client
from services.paper.markets import Market
from services.paper.matcher import run_funding, run_matcher
from services.paper.prices import PriceBoard, PriceFeed, RandomWalkFeed, ReferenceFeed
from services.paper.store.database import Store

SERVICE = "paper"
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def _feed(settings: PaperSettings) -> PriceFeed:
    if settings.price_feed is PriceFeedKind.FIXED:
        return ReferenceFeed()
    return RandomWalkFeed(settings.price_seed, settings.price_bucket_ms, settings.price_volatility)


def _ticker_poller(settings: PaperSettings) -> TickerPoller | None:
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


def _lifespan(settings: PaperSettings, clock: Clock) -> Lifespan:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = await Store.open(settings.state_path)
        app.state.store = store
        poller = _ticker_poller(settings)
        feed = None
        if poller is not None:
            # Venue prices from the first request on (the synthetic walk if it cannot answer).
            await poller.refresh()
            feed = poller.feed
        app.state.exchange = await build_exchange(settings, store, clock, feed)
        app.state.futures = build_futures(settings, app.state.exchange)
        app.state.keys = KeyRing(store, clock)
        background = [
            *([asyncio.create_task(poller.run())] if poller is not None else []),
            asyncio.create_task(
                run_matcher(app.state.exchange, app.state.futures, settings.match_interval_s)
            ),
            asyncio.create_task(run_funding(app.state.futures, settings.match_interval_s)),
            asyncio.create_task(store.keep_checkpointing()),
        ]
        try:
            yield
        finally:
            for task in background:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if poller is not None:
                await poller.close()
            await store.close()

    return lifespan


async def _binance_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, BinanceError):  # pragma: no cover - registered for BinanceError
        raise exc
    return api.binance_error_response(exc)


async def _invalid(request: Request, exc: Exception) -> Response:
    """Binance's routes answer in Binance's shape, the admin API in the common one."""
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for this class
    if request.url.path.startswith((api.router.prefix, futures_api.PREFIX)):
        return api.binance_invalid_parameter(exc)
    return common_api.invalid_request(common_api.field_problems(exc.errors()))


async def _injected(request: Request, exc: Exception) -> Response:
    status = exc.status if isinstance(exc, InjectedServerError) else 503
    return PlainTextResponse("Service Unavailable", status_code=status)


def _binance_routes_without_422(
    openapi: Callable[[], dict[str, Any]],
) -> Callable[[], dict[str, Any]]:
    """The document, without the 422 FastAPI lists on Binance's routes: they answer 400 (-1100)."""

    def document() -> dict[str, Any]:
        found = openapi()
        for path, operations in found.get("paths", {}).items():
            if path.startswith((api.router.prefix, futures_api.PREFIX)):
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)
        return found

    return document


def create_app(settings: PaperSettings, *, clock: Clock = wall_clock_ms) -> FastAPI:
    """Build the paper exchange's app; the state file opens when the app starts."""
    tracer_provider = bootstrap(SERVICE, settings)
    app = FastAPI(
        title="Sparky paper exchange",
        lifespan=_lifespan(settings, clock),
        # FastAPI's own request spans follow the same switch as the instrumentation.
        telemetry={"tracing": settings.trace_requests},
    )
    app.state.settings = settings
    app.state.faults = Faults()
    app.include_router(api.router)
    if settings.plain_order_route:
        app.router.routes.insert(0, plain_order_route())  # matched before the FastAPI route
    for router in (futures_api.v1, futures_api.v2, futures_api.v3):
        app.include_router(router)
    app.include_router(admin.router)
    common_api.install_error_answers(app)
    app.openapi = _binance_routes_without_422(app.openapi)  # type: ignore[method-assign]
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(BinanceError, _binance_error)
    app.add_exception_handler(InjectedServerError, _injected)
    limits = WeightLimits(
        settings.weight_limit,
        settings.weight_interval_s,
        settings.weight_ban_s,
        settings.weight_ban_strikes,
    )
    app.add_middleware(WeightLimitMiddleware, counter=WeightCounter(limits, lambda: clock() / 1000))

    async def store_ready() -> None:
        await app.state.store.check()

    if settings.trace_requests:
        mount_ops(app, {"state": store_ready}, tracer_provider)
    else:
        app.include_router(ops_router({"state": store_ready}))
    return app

"""Wiring and lifespan of the paper exchange: the runtime, the routes and the error shapes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, Response

from libs.common import api as common_api
from libs.common.ops import ops_router
from libs.common.service import bootstrap, mount_ops
from services.paper.api import admin
from services.paper.api import futures as futures_api
from services.paper.api import spot as api
from services.paper.api.deps import InjectedServerError
from services.paper.api.order import plain_order_route
from services.paper.config import PaperSettings
from services.paper.errors import BinanceError
from services.paper.exchange import Clock, wall_clock_ms
from services.paper.limits import WeightCounter, WeightLimitMiddleware, WeightLimits
from services.paper.runtime import Runtime, runtime_of

SERVICE = "paper"
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def _lifespan(settings: PaperSettings, clock: Clock) -> Lifespan:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await Runtime.open(settings, clock)
        app.state.runtime = runtime
        try:
            yield
        finally:
            await runtime.close()

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
        await runtime_of(app).store.check()

    if settings.trace_requests:
        mount_ops(app, {"state": store_ready}, tracer_provider)
    else:
        app.include_router(ops_router({"state": store_ready}))
    return app

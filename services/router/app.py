"""The router's process: settings API, INTENTS consumer and position projector in one app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from libs.common.consumer import ConsumerPolicy
from libs.common.messages.types import utcnow
from libs.common.ops import ReadinessCheck
from libs.common.service import mount_ops, nats_check, postgres_check
from services.router.api.errors import install_error_handlers
from services.router.api.reads import router as settings_reads
from services.router.api.settings import router as settings_routes
from services.router.config import RouterSettings
from services.router.runtime import RouterRuntime


def redis_check(runtime: RouterRuntime) -> ReadinessCheck:
    """Return a readiness check that pings Redis."""

    async def check() -> None:
        await runtime.redis.ping()

    return check


def create_app(
    settings: RouterSettings,
    *,
    tracer_provider: TracerProvider | None = None,
    policy: ConsumerPolicy | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> FastAPI:
    """Build the app; its lifespan migrates, connects and starts consuming."""
    provider = tracer_provider or TracerProvider()
    runtime = RouterRuntime(settings, policy=policy, clock=clock, tracer_provider=provider)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            app.state.authenticator = runtime.authenticator()
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title="Sparky router", version="1", lifespan=lifespan)
    app.state.runtime = runtime
    install_error_handlers(app)
    app.include_router(settings_reads)  # first: /effective and /history are not layers
    app.include_router(settings_routes)
    checks = {
        "nats": nats_check(runtime.broker),
        "postgres": postgres_check(runtime.engine),
        "redis": redis_check(runtime),
    }
    mount_ops(app, checks, provider)
    return app

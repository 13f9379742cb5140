"""The executor's wiring: the exchange-accounts API, the ORDERS consumer and the tracker.

``create_app`` returns the FastAPI app; its lifespan migrates the schema, connects to NATS,
starts the KV mirrors, the partitioned consumer and the order tracker, and stops them in
reverse order on shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI

from libs.common.messages.types import utcnow
from libs.common.ops import ReadinessCheck
from libs.common.service import bootstrap, mount_ops, nats_check, postgres_check
from services.executor.api import install_error_handlers, router
from services.executor.config import SERVICE, ExecutorSettings, executor_settings
from services.executor.runtime import Runtime


def create_app(
    settings: ExecutorSettings | None = None, *, clock: Callable[[], datetime] = utcnow
) -> FastAPI:
    """Return the executor's app (settings from the environment unless given)."""
    settings = settings or executor_settings()
    tracer_provider = bootstrap(SERVICE, settings)
    checks: dict[str, ReadinessCheck] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime(settings, clock, tracer_provider)
        await runtime.start()
        app.state.runtime = runtime
        app.state.authenticator = runtime.authenticator
        app.state.accounts = runtime.accounts
        checks.update(
            nats=nats_check(runtime.broker),
            postgres=postgres_check(runtime.engine),
            vault=runtime.vault.check,
        )
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title="Sparky executor", version="1", lifespan=lifespan)
    app.include_router(router)
    install_error_handlers(app)
    mount_ops(app, checks, tracer_provider)
    return app

"""The executor's wiring, by role (``SPARKY_EXECUTOR_ROLE``): the trading process (the ORDERS
consumer and the tracker, no accounts API) or the accounts process (the exchange-accounts API
only).

``create_app`` returns the FastAPI app; its lifespan migrates the schema, connects to NATS,
starts the KV mirrors and, trading, the partitioned consumer and the order tracker, and stops
them in reverse order on shutdown. Either role serves ``/healthz``, ``/readyz`` and
``/metrics``; the trading role does not mount ``/api/v1/exchange-accounts`` at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI

from libs.common.messages.types import utcnow
from libs.common.ops import ReadinessCheck
from libs.common.service import bootstrap, mount_ops, nats_check, postgres_check
from services.executor.api.routes import install_error_handlers, router
from services.executor.config import SERVICE, ExecutorRole, ExecutorSettings, executor_settings
from services.executor.runtime import Runtime

TITLES = {
    ExecutorRole.TRADING: "Sparky executor",
    ExecutorRole.ACCOUNTS: "Sparky exchange accounts",
    ExecutorRole.ALL: "Sparky executor",
}


def create_app(
    settings: ExecutorSettings | None = None, *, clock: Callable[[], datetime] = utcnow
) -> FastAPI:
    """Return the app of the executor's role (settings from the environment unless given)."""
    settings = settings or executor_settings()
    # Logs and traces tell the two processes apart.
    name = SERVICE if settings.role.trades else f"{SERVICE}-accounts"
    tracer_provider = bootstrap(name, settings)
    checks: dict[str, ReadinessCheck] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime(settings, clock, tracer_provider)
        await runtime.start()
        app.state.runtime = runtime
        if settings.role.serves_accounts:
            app.state.authenticator = runtime.authenticator
            app.state.accounts = runtime.accounts
            app.state.paper_accounts = runtime.paper_accounts
        checks.update(
            nats=nats_check(runtime.broker),
            postgres=postgres_check(runtime.engine),
            vault=runtime.vault.check,
        )
        try:
            yield
        finally:
            await runtime.stop()

    title = TITLES[settings.role]
    app = FastAPI(title=title, version="1", lifespan=lifespan)
    if settings.role.serves_accounts:
        app.include_router(router)
    install_error_handlers(app)
    mount_ops(app, checks, tracer_provider)
    return app

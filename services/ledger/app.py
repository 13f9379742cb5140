"""Wiring: the ledger's ASGI app, whose lifespan runs a `LedgerRuntime`; the read API and
the operational endpoints.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from libs.common.service import bootstrap, mount_ops, postgres_check
from services.ledger.api import routes as api
from services.ledger.config import SERVICE, LedgerSettings, ledger_settings
from services.ledger.runtime import LedgerRuntime


def create_app(settings: LedgerSettings | None = None) -> FastAPI:
    """Return the ledger's ASGI app: projector, read API, /healthz, /readyz, /metrics."""
    settings = settings or ledger_settings()
    tracer_provider = bootstrap(SERVICE, settings)
    runtime = LedgerRuntime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime.running(app):
            yield

    app = FastAPI(title="Sparky ledger", version="1", lifespan=lifespan)
    api.install(app)

    async def database() -> None:
        await postgres_check(app.state.engine)()

    async def broker() -> None:
        if not app.state.nc.is_connected:
            raise ConnectionError("not connected to NATS")

    mount_ops(app, {"postgres": database, "nats": broker}, tracer_provider)
    return app

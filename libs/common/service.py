"""What every service's ``app.py`` and ``__main__.py`` do the same way.

- `bootstrap`: JSON logging with redaction, then tracing (OTLP when configured);
- `mount_ops`: ``/healthz``, ``/readyz`` (with the service's checks), ``/metrics``, and
  request tracing of the FastAPI app;
- readiness checks for NATS and Postgres;
- `serve`: uvicorn with uvloop and httptools, our logging (never uvicorn's own handlers, which
  would print webhook tokens), no trust in forwarded headers (ingress decides that), and the
  deadlines and size limits of `libs.common.http_limits` on every request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import uvicorn
from fastapi import FastAPI

from libs.common.config import ServiceSettings
from libs.common.http_limits import GuardedHttpToolsProtocol, ReadLimits
from libs.common.logs import configure_logging
from libs.common.ops import ReadinessCheck, ops_router
from libs.common.telemetry import instrument_fastapi, setup_tracing

if TYPE_CHECKING:
    from faststream.nats import NatsBroker
    from opentelemetry.sdk.trace import TracerProvider
    from sqlalchemy.ext.asyncio import AsyncEngine


def bootstrap(service: str, settings: ServiceSettings) -> TracerProvider:
    """Configure logging and tracing for ``service``; return the tracer provider."""
    configure_logging(service, level=settings.log_level, json=settings.log_json)
    return setup_tracing(service, otlp_endpoint=settings.otlp_endpoint)


def mount_ops(
    app: FastAPI, checks: Mapping[str, ReadinessCheck], tracer_provider: TracerProvider
) -> None:
    """Add the operational endpoints and request tracing to ``app``."""
    app.include_router(ops_router(checks))
    instrument_fastapi(app, tracer_provider)


def nats_check(broker: NatsBroker) -> ReadinessCheck:
    """Return a readiness check that passes while the broker is connected to NATS."""

    async def check() -> None:
        if not await broker.ping(timeout=1.0):
            raise ConnectionError("not connected to NATS")

    return check


def postgres_check(engine: AsyncEngine) -> ReadinessCheck:
    """Return a readiness check that runs ``SELECT 1`` on ``engine``."""
    from sqlalchemy import text  # noqa: PLC0415 - only DB services have SQLAlchemy

    async def check() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    return check


def read_limits(settings: ServiceSettings) -> ReadLimits:
    """Return the request deadlines and sizes ``settings`` give."""
    return ReadLimits(
        header_timeout_s=settings.http_header_timeout_s,
        body_grace_s=settings.http_body_grace_s,
        min_body_rate=settings.http_min_body_rate,
        body_timeout_s=settings.http_body_timeout_s,
        max_body_bytes=settings.http_max_body_bytes,
        max_header_bytes=settings.http_max_header_bytes,
    )


def serve(
    app: FastAPI,
    settings: ServiceSettings,
    *,
    access_log: bool = True,
    limit_concurrency: int | None = None,
    protocol: type[GuardedHttpToolsProtocol] = GuardedHttpToolsProtocol,
) -> None:
    """Run ``app`` with uvicorn until SIGINT or SIGTERM, then shut down gracefully.

    ``limit_concurrency`` makes uvicorn answer 503 beyond that many connections and requests
    in flight, instead of queueing where the app cannot see the overload. Requests are read
    under the deadlines and size limits of the settings (`read_limits`), by ``protocol``.
    """
    uvicorn.run(
        app,
        http=protocol.with_limits(read_limits(settings)),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=access_log,
        limit_concurrency=limit_concurrency,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=15,
    )

"""Operational endpoints every service mounts: liveness, readiness and Prometheus metrics.

Liveness checks nothing but the event loop, so a database outage never gets a healthy
pod restarted; readiness runs the service's dependency checks so the pod is taken out of
rotation instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from libs.common.redaction import redact

ReadinessCheck = Callable[[], Awaitable[None]]
"""An async callable that returns when a dependency is usable and raises when it is not."""

OK = "ok"
TIMEOUT = "timeout"
_MAX_REASON = 200

_log = logging.getLogger(__name__)


async def _run_check(check: ReadinessCheck, timeout_s: float) -> str:
    try:
        async with asyncio.timeout(timeout_s) as deadline:
            await check()
    except TimeoutError as exc:
        # A check's own TimeoutError (a driver's connect timeout) is a failure, not ours.
        return TIMEOUT if deadline.expired() else _reason(exc)
    except Exception as exc:  # noqa: BLE001 - whatever a driver raises means "not ready"
        return _reason(exc)
    return OK


def _reason(exc: BaseException) -> str:
    message = redact(str(exc))
    reason = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return reason[:_MAX_REASON]


async def run_readiness_checks(
    checks: Mapping[str, ReadinessCheck], *, timeout_s: float = 2.0
) -> dict[str, str]:
    """Run every check concurrently; map each name to "ok", "timeout" or the failure."""
    names = list(checks)
    results = await asyncio.gather(*(_run_check(checks[name], timeout_s) for name in names))
    return dict(zip(names, results, strict=True))


def ops_router(checks: Mapping[str, ReadinessCheck], *, timeout_s: float = 2.0) -> APIRouter:
    """Return a router serving /healthz, /readyz and /metrics, hidden from the OpenAPI schema."""
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        results = await run_readiness_checks(checks, timeout_s=timeout_s)
        if all(result == OK for result in results.values()):
            return JSONResponse({"status": "ready", "checks": results})
        _log.warning("service not ready", extra={"checks": results})
        return JSONResponse({"status": "not ready", "checks": results}, status_code=503)

    @router.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return router

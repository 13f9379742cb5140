from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY, Counter

from libs.common.ops import ReadinessCheck, ops_router

pytestmark = pytest.mark.unit


async def healthy() -> None:
    return None


async def postgres_down() -> None:
    raise ConnectionRefusedError("connect to 10.0.0.5:5432 refused")


async def hangs() -> None:
    await asyncio.Event().wait()


async def get(checks: Mapping[str, ReadinessCheck], path: str, **opts: float) -> httpx.Response:
    app = FastAPI()
    app.include_router(ops_router(checks, **opts))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        return await client.get(path)


async def test_healthz_is_ok_even_when_a_dependency_is_down() -> None:
    response = await get({"postgres": postgres_down}, "/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_200_when_every_dependency_answers() -> None:
    response = await get({"postgres": healthy, "nats": healthy}, "/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"postgres": "ok", "nats": "ok"}}


async def test_readyz_is_503_naming_the_failing_dependency() -> None:
    response = await get({"postgres": postgres_down, "nats": healthy}, "/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "not ready",
        "checks": {
            "postgres": "ConnectionRefusedError: connect to 10.0.0.5:5432 refused",
            "nats": "ok",
        },
    }


async def test_readyz_times_out_a_hanging_check() -> None:
    response = await get({"redis": hangs, "nats": healthy}, "/readyz", timeout_s=0.05)

    assert response.status_code == 503
    assert response.json()["checks"] == {"redis": "timeout", "nats": "ok"}


async def test_readyz_runs_the_checks_concurrently() -> None:
    # Each check waits for the other to start: run one after the other, both would time out.
    started = {"a": asyncio.Event(), "b": asyncio.Event()}

    def waits_for(me: str, other: str) -> ReadinessCheck:
        async def check() -> None:
            started[me].set()
            await started[other].wait()

        return check

    checks = {"a": waits_for("a", "b"), "b": waits_for("b", "a")}
    response = await get(checks, "/readyz", timeout_s=1.0)

    assert response.json() == {"status": "ready", "checks": {"a": "ok", "b": "ok"}}


async def test_a_checks_own_timeout_error_is_reported_as_its_failure() -> None:
    async def slow_driver() -> None:
        raise TimeoutError("vault did not answer in 1s")

    response = await get({"vault": slow_driver}, "/readyz")

    assert response.json()["checks"] == {"vault": "TimeoutError: vault did not answer in 1s"}


async def test_failure_reason_is_redacted_and_short() -> None:
    async def leaky() -> None:
        raise RuntimeError("redis://:password=hunter2@cache " + "x" * 500)

    response = await get({"redis": leaky}, "/readyz")

    reason = response.json()["checks"]["redis"]
    assert reason.startswith("RuntimeError: redis://:password=[REDACTED]")
    assert len(reason) == 200


async def test_metrics_endpoint_serves_prometheus_text() -> None:
    name = f"sparky_test_alerts_{uuid.uuid4().hex[:8]}"
    counter = Counter(name, "Alerts seen by the test.")
    counter.inc(3)
    try:
        response = await get({}, "/metrics")
    finally:
        REGISTRY.unregister(counter)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "Alerts seen by the test." in response.text
    assert f"{name}_total 3.0" in response.text


def test_ops_routes_are_hidden_from_the_openapi_schema() -> None:
    app = FastAPI()
    app.include_router(ops_router({"postgres": healthy}))

    paths = app.openapi()["paths"]

    assert not {"/healthz", "/readyz", "/metrics"} & set(paths)

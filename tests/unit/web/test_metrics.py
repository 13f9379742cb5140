"""The web app's request metrics: labelled by route template, never by the raw URL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from prometheus_client import REGISTRY

from services.web.metrics import RequestMetrics


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/alerts/stream")
    async def stream() -> StreamingResponse:
        async def events() -> AsyncIterator[bytes]:
            yield b": keepalive\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    @app.get("/alerts/{intent_id}")
    async def trail(intent_id: str) -> dict[str, str]:
        return {"intent_id": intent_id}

    app.add_middleware(RequestMetrics)
    return app


def _count(route: str, status: str) -> float:
    labels = {"method": "GET", "route": route, "status": status}
    return REGISTRY.get_sample_value("sparky_web_requests_total", labels) or 0.0


def _timed(route: str) -> float:
    labels = {"method": "GET", "route": route}
    return REGISTRY.get_sample_value("sparky_web_request_seconds_count", labels) or 0.0


async def test_answers_are_counted_by_route_template_and_unknown_paths_as_other() -> None:
    before = (_count("/alerts/{intent_id}", "200"), _count("other", "404"))
    timed = _timed("/alerts/{intent_id}")
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://web") as client:
        assert (await client.get("/alerts/01SECRETINTENT")).status_code == 200
        assert (await client.get("/guess/whk_token-in-a-path")).status_code == 404
    assert _count("/alerts/{intent_id}", "200") == before[0] + 1
    assert _count("other", "404") == before[1] + 1
    assert _timed("/alerts/{intent_id}") == timed + 1
    exposed = REGISTRY.collect()
    assert not any(
        "01SECRETINTENT" in str(s.labels) or "whk_" in str(s.labels)
        for metric in exposed
        for s in metric.samples
    )


async def test_a_live_stream_is_counted_but_not_timed() -> None:
    before, timed = _count("/alerts/stream", "200"), _timed("/alerts/stream")
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://web") as client:
        assert (await client.get("/alerts/stream")).status_code == 200
    assert _count("/alerts/stream", "200") == before + 1
    assert _timed("/alerts/stream") == timed

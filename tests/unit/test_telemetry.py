from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util._once import Once

from libs.common.telemetry import (
    build_tracer_provider,
    instrument_fastapi,
    setup_tracing,
    shutdown_tracing,
)

pytestmark = pytest.mark.unit

TOKEN = "whk_" + "Q7rT2mXk9LpZ4vBn8sYc"


@pytest.fixture(autouse=True)
def _fresh_global_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    # OpenTelemetry allows one global provider per process and has no public reset;
    # monkeypatch restores whatever was installed before once the test ends.
    monkeypatch.setattr(trace, "_TRACER_PROVIDER_SET_ONCE", Once())
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", None)


def webhook_app(exporter: InMemorySpanExporter) -> FastAPI:
    provider = build_tracer_provider("ingress", extra_processors=[SimpleSpanProcessor(exporter)])
    app = FastAPI()

    @app.post("/webhooks/tv/{token}")
    async def receive_alert(token: str) -> dict[str, str]:
        return {"status": "accepted"}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    instrument_fastapi(app, provider)
    return app


async def call(app: FastAPI, method: str, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ingress") as client:
        return await client.request(method, path)


def exported_text(spans: tuple[ReadableSpan, ...]) -> list[str]:
    texts = [span.name for span in spans]
    for span in spans:
        texts += [f"{key}={value!s}" for key, value in (span.attributes or {}).items()]
    return texts


async def test_span_attributes_of_webhook_request_do_not_contain_the_token() -> None:
    exporter = InMemorySpanExporter()
    app = webhook_app(exporter)

    response = await call(app, "POST", f"/webhooks/tv/{TOKEN}?source=tv")

    assert response.status_code == 200
    texts = exported_text(exporter.get_finished_spans())
    assert [text for text in texts if TOKEN in text] == []
    assert "http.target=/webhooks/tv/[REDACTED]" in texts


async def test_server_span_is_named_after_the_route_template() -> None:
    exporter = InMemorySpanExporter()

    await call(webhook_app(exporter), "POST", f"/webhooks/tv/{TOKEN}")

    names = {span.name for span in exporter.get_finished_spans()}
    assert "POST /webhooks/tv/{token}" in names


async def test_health_probes_are_not_traced() -> None:
    exporter = InMemorySpanExporter()

    await call(webhook_app(exporter), "GET", "/healthz")

    assert exporter.get_finished_spans() == ()


def test_span_started_with_a_secret_is_exported_redacted() -> None:
    exporter = InMemorySpanExporter()
    provider = build_tracer_provider("executor", extra_processors=[SimpleSpanProcessor(exporter)])
    tracer = provider.get_tracer("test")

    attributes = {"url.full": f"https://x/webhooks/tv/{TOKEN}", "peer": ["Bearer abc"]}
    with tracer.start_as_current_span(f"forward {TOKEN}", attributes=attributes):
        pass

    (span,) = exporter.get_finished_spans()
    assert span.name == "forward [REDACTED]"
    assert dict(span.attributes or {}) == {
        "url.full": "https://x/webhooks/tv/[REDACTED]",
        "peer": ("Bearer [REDACTED]",),
    }


def test_spans_are_attributed_to_the_sparky_service() -> None:
    provider = build_tracer_provider("router")

    assert provider.resource.attributes["service.name"] == "sparky-router"


def test_without_an_exporter_spans_are_unrecorded_but_keep_the_callers_trace() -> None:
    tracer = build_tracer_provider("router").get_tracer("test")
    caller = trace.SpanContext(
        trace_id=0x1234, span_id=0x5678, is_remote=True, trace_flags=trace.TraceFlags(1)
    )

    with tracer.start_as_current_span("root") as root:
        assert not root.is_recording()
        assert root.get_span_context().trace_id != 0  # log lines still get a trace id
    parent = trace.set_span_in_context(trace.NonRecordingSpan(caller))
    with tracer.start_as_current_span("handle", context=parent) as child:
        assert not child.is_recording()
        assert child.get_span_context().trace_id == 0x1234


def test_spans_are_recorded_once_an_exporter_is_added() -> None:
    provider = build_tracer_provider("router")
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("before") as span:
        assert not span.is_recording()

    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with tracer.start_as_current_span("after") as span:
        assert span.is_recording()
    assert [s.name for s in exporter.get_finished_spans()] == ["after"]


def test_setting_up_tracing_twice_keeps_the_first_provider() -> None:
    first = setup_tracing("router", otlp_endpoint=None)
    second = setup_tracing("router", otlp_endpoint=None, sample_ratio=0.1)

    assert second is first
    assert trace.get_tracer_provider() is first


def test_shutdown_tracing_flushes_buffered_spans() -> None:
    exporter = InMemorySpanExporter()
    setup_tracing("ledger", otlp_endpoint=None, extra_processors=[BatchSpanProcessor(exporter)])
    with trace.get_tracer("test").start_as_current_span("book fill"):
        pass

    shutdown_tracing()

    assert [span.name for span in exporter.get_finished_spans()] == ["book fill"]


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Keep the fake collector quiet."""


@pytest.fixture
def collector(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # the exporter uses requests, which obeys proxies
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    received: list[tuple[str, bytes]] = []
    handler = type("Collector", (_Collector,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()
    server.server_close()


def test_spans_reach_the_collector_base_url_without_the_token(
    collector: tuple[str, list[tuple[str, bytes]]],
) -> None:
    base_url, received = collector
    provider = build_tracer_provider("ingress", otlp_endpoint=base_url)
    with provider.get_tracer("test").start_as_current_span(f"POST /webhooks/tv/{TOKEN}"):
        pass

    provider.shutdown()

    ((path, body),) = received
    assert path == "/v1/traces"
    assert TOKEN.encode() not in body
    assert b"sparky-ingress" in body

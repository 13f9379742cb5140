"""Spans are redacted when they leave the process, not only when they start."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from libs.common.redaction import REDACTOR
from libs.common.span_export import RedactingExporter

pytestmark = pytest.mark.unit

EXCHANGE_SECRET = "s3cr3t-Binance-API-secret-0123456789abcdef"
TOKEN = "spk_" + "Zq8Vw2Lm4Nx7Pr1Ts5Yb"


@pytest.fixture
def registered() -> Iterator[str]:
    REDACTOR.register(EXCHANGE_SECRET)
    yield EXCHANGE_SECRET
    REDACTOR.forget(EXCHANGE_SECRET)


def test_exception_events_status_and_late_attributes_are_redacted_at_export(
    registered: str,
) -> None:
    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(RedactingExporter(exported)))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("ccxt create_order") as span:
        span.set_attribute("http.request.body", f"apiKey={TOKEN}&secret={registered}")
        span.set_attribute("tags", [f"key {TOKEN}", "plain"])
        span.add_event("retry", {"detail": f"signed with {registered}"})
        span.record_exception(RuntimeError(f"binance POST failed: secret={registered} {TOKEN}"))
        span.set_status(Status(StatusCode.ERROR, f"refused {TOKEN}"))

    (sent,) = exported.get_finished_spans()
    text = repr(
        (
            sent.name,
            dict(sent.attributes or {}),
            [(e.name, dict(e.attributes or {})) for e in sent.events],
            sent.status.description,
        )
    )
    assert registered not in text
    assert TOKEN not in text
    assert "exception.stacktrace" in text  # the event is kept, its text cleaned
    assert sent.attributes is not None
    assert list(sent.attributes["tags"])[1] == "plain"  # type: ignore[arg-type]
    assert sent.context == span.get_span_context()


def test_redacted_copies_encode_as_otlp(registered: str) -> None:
    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(RedactingExporter(exported)))
    with provider.get_tracer("test").start_as_current_span("call") as span:
        span.record_exception(ValueError(registered))
    encoded = encode_spans(exported.get_finished_spans()).SerializeToString()
    assert registered.encode() not in encoded
    assert b"exception.message" in encoded

"""Without an exporter, each request still runs inside a span with ids of its own."""

from __future__ import annotations

import asyncio

from opentelemetry import trace
from starlette.types import Receive, Scope, Send

from services.ingress.tracing import TraceIds

CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c"


def span_seen_by_the_app(headers: list[tuple[bytes, bytes]]) -> trace.SpanContext:
    """Run one HTTP request through `TraceIds`; return the span context the app saw."""
    seen: list[trace.SpanContext] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(trace.get_current_span().get_span_context())

    async def nothing() -> dict[str, object]:
        return {}

    async def ignore(message: object) -> None:
        return None

    scope = {"type": "http", "headers": headers}
    asyncio.run(TraceIds(app)(scope, nothing, ignore))
    return seen[0]


def test_each_request_gets_its_own_valid_ids_without_recording_a_span() -> None:
    first, second = span_seen_by_the_app([]), span_seen_by_the_app([])

    assert first.is_valid
    assert second.is_valid
    assert first.trace_id != second.trace_id
    assert not first.trace_flags.sampled  # downstream services do not record it either


def test_a_callers_traceparent_is_continued() -> None:
    header = f"00-{CALLER_TRACE}-b7ad6b7169203331-01".encode()

    context = span_seen_by_the_app([(b"traceparent", header)])

    assert f"{context.trace_id:032x}" == CALLER_TRACE
    assert f"{context.span_id:016x}" != "b7ad6b7169203331"


def test_a_malformed_traceparent_starts_a_new_trace() -> None:
    context = span_seen_by_the_app([(b"traceparent", b"00-not-a-trace")])

    assert context.is_valid


def test_outside_a_request_no_span_is_left_current() -> None:
    span_seen_by_the_app([])

    assert not trace.get_current_span().get_span_context().is_valid

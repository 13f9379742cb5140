"""Each request starts a new trace at the internet's edge, whatever the caller sent."""

from __future__ import annotations

import asyncio

from opentelemetry import trace
from starlette.types import Receive, Scope, Send

from services.ingress.api.tracing import EdgeTrace, TraceIds, caller_trace_id

CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c"
CALLER_HEADER = f"00-{CALLER_TRACE}-b7ad6b7169203331-01".encode()


def run(middleware: type[EdgeTrace] | type[TraceIds], headers: list[tuple[bytes, bytes]]) -> Scope:
    """Run one HTTP request through ``middleware``; return the scope the app saw, with the
    span context current while it ran under ``"span"``."""
    seen: list[Scope] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append({**scope, "span": trace.get_current_span().get_span_context()})

    async def nothing() -> dict[str, object]:
        return {}

    async def ignore(message: object) -> None:
        return None

    asyncio.run(middleware(app)({"type": "http", "headers": headers}, nothing, ignore))
    return seen[0]


def span_seen_by_the_app(headers: list[tuple[bytes, bytes]]) -> trace.SpanContext:
    span: trace.SpanContext = run(TraceIds, headers)["span"]
    return span


def test_each_request_gets_its_own_valid_ids_without_recording_a_span() -> None:
    first, second = span_seen_by_the_app([]), span_seen_by_the_app([])

    assert first.is_valid
    assert second.is_valid
    assert first.trace_id != second.trace_id
    assert not first.trace_flags.sampled  # downstream services do not record it either


def test_a_callers_traceparent_is_not_continued() -> None:
    context = span_seen_by_the_app([(b"traceparent", CALLER_HEADER)])

    assert context.is_valid
    assert f"{context.trace_id:032x}" != CALLER_TRACE


def test_the_edge_hides_the_callers_trace_headers_and_keeps_only_its_trace_id() -> None:
    sent = [
        (b"content-type", b"application/json"),
        (b"traceparent", CALLER_HEADER),
        (b"tracestate", b"vendor=anything"),
        (b"baggage", b"tenant_id=someone-else"),
    ]

    scope = run(EdgeTrace, sent)

    assert scope["headers"] == [(b"content-type", b"application/json")]
    assert scope["sparky.caller_trace_id"] == CALLER_TRACE


def test_a_request_without_trace_headers_passes_the_edge_unchanged() -> None:
    scope = run(EdgeTrace, [(b"content-type", b"text/plain")])

    assert scope["headers"] == [(b"content-type", b"text/plain")]
    assert "sparky.caller_trace_id" not in scope


def test_a_malformed_traceparent_is_removed_and_no_trace_id_kept() -> None:
    scope = run(EdgeTrace, [(b"traceparent", b"00-not-a-trace")])

    assert scope["headers"] == []
    assert scope["sparky.caller_trace_id"] is None


def test_only_a_valid_w3c_trace_id_is_kept() -> None:
    zeros = f"00-{'0' * 32}-b7ad6b7169203331-01".encode()
    upper = f"00-{CALLER_TRACE.upper()}-b7ad6b7169203331-01".encode()
    injected = f"00-{CALLER_TRACE}-b7ad6b7169203331-01\nX: y".encode()

    kept = [caller_trace_id([(b"traceparent", v)]) for v in (zeros, upper, injected, b"\xff")]

    assert kept == [None, None, None, None]
    assert caller_trace_id([(b"traceparent", CALLER_HEADER)]) == CALLER_TRACE


def test_outside_a_request_no_span_is_left_current() -> None:
    span_seen_by_the_app([])

    assert not trace.get_current_span().get_span_context().is_valid

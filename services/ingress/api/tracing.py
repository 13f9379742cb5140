"""Request tracing: every webhook call starts a new trace, recorded when it can go somewhere.

Ingress is the internet's edge: a ``traceparent`` a caller sends would let anyone join our
traces, pick the trace ids our logs and the pipeline's spans carry, and (with ``tracestate``
and ``baggage``) ride along in every NATS header downstream. So `EdgeTrace`, wrapped around
everything (the OpenTelemetry instrumentation included, which would otherwise extract them),
removes those headers before any other code sees the request; a valid caller's trace id is
kept only as the server span's ``sparky.caller_traceparent`` attribute (32 hex digits, never
the raw header). The rest of the pipeline shares ingress's own trace: the ``traceparent`` it
publishes with the intent. The router and the executor are internal and keep propagating.

With an OTLP endpoint (or a sample ratio above 0), the OpenTelemetry FastAPI instrumentation
records a server span per request, its token redacted. Without one, nothing would leave the
process, yet that instrumentation still cost about a tenth of the CPU of an alert (attributes,
sampler, redaction hook, wrapped ``send``). `TraceIds` then only makes each request the current
span with fresh ids, not recorded: the log lines and the NATS ``traceparent`` header still tie
an alert's path through the services together.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from opentelemetry import context, trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Receive, Scope, Send

from libs.common.telemetry import redact_span

CALLER_TRACE_ATTRIBUTE = "sparky.caller_traceparent"
"""The server span's attribute holding a caller's trace id (32 hex digits), if it sent one."""
_CALLER_TRACE = "sparky.caller_trace_id"  # where `EdgeTrace` leaves it in the ASGI scope
_TRACE_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage"})
_IDS = RandomIdGenerator()
_TRACEPARENT = TraceContextTextMapPropagator()


def trace_requests(app: FastAPI, provider: TracerProvider, *, record: bool) -> None:
    """Give every request of ``app`` a span of a new trace: recorded by ``provider``, or ids
    only."""
    if record:
        # As `libs.common.service.mount_ops` does, minus the ASGI ``receive`` and ``send``
        # child spans: they hold nothing a webhook investigation needs, and each span's
        # redaction costs CPU on the hot path (about 40 µs per span on this machine).
        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=provider,
            excluded_urls="healthz,readyz,metrics",
            server_request_hook=_server_request_hook,
            exclude_spans=["receive", "send"],
        )
    else:
        app.add_middleware(TraceIds)
    _wrap_outermost(app)


def _wrap_outermost(app: FastAPI) -> None:
    # The instrumentation builds its middleware around the whole stack; go around it in turn
    # (after it was installed), so it never sees a caller's trace headers.
    build: Callable[[], ASGIApp] = app.build_middleware_stack

    def build_at_the_edge() -> ASGIApp:
        return EdgeTrace(build())

    app.build_middleware_stack = build_at_the_edge  # type: ignore[method-assign]


def _server_request_hook(span: trace.Span, scope: Scope) -> None:
    redact_span(span)
    caller = scope.get(_CALLER_TRACE)
    if caller is not None and span.is_recording():
        span.set_attribute(CALLER_TRACE_ATTRIBUTE, caller)


class EdgeTrace:
    """ASGI middleware: strip a caller's trace headers; keep its valid trace id in the scope."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on without ``traceparent``, ``tracestate`` or ``baggage``."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = scope["headers"]
        if any(name in _TRACE_HEADERS for name, _ in headers):
            scope = {
                **scope,
                "headers": [(n, v) for n, v in headers if n not in _TRACE_HEADERS],
                _CALLER_TRACE: caller_trace_id(headers),
            }
        await self._app(scope, receive, send)


def caller_trace_id(headers: list[tuple[bytes, bytes]]) -> str | None:
    """Return the trace id of the first ``traceparent`` as 32 hex digits, None if not valid."""
    value = next((v for n, v in headers if n == b"traceparent"), None)
    if value is None:
        return None
    carrier = {"traceparent": value.decode("latin-1")}
    caller = trace.get_current_span(_TRACEPARENT.extract(carrier)).get_span_context()
    return f"{caller.trace_id:032x}" if caller.is_valid else None


class TraceIds:
    """ASGI middleware: each HTTP request runs inside a non-recorded span of a new trace."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request with its span current; other scopes (lifespan) pass through."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        token = context.attach(trace.set_span_in_context(request_span()))
        try:
            await self._app(scope, receive, send)
        finally:
            context.detach(token)


def request_span() -> trace.NonRecordingSpan:
    """Return a span with a new trace id and span id, whatever the caller sent."""
    span_context = trace.SpanContext(
        _IDS.generate_trace_id(), _IDS.generate_span_id(), is_remote=False
    )
    return trace.NonRecordingSpan(span_context)

"""Request tracing: recorded spans when they can go somewhere, otherwise trace ids only.

With an OTLP endpoint (or a sample ratio above 0), the OpenTelemetry FastAPI instrumentation
records a server span per request, its token redacted. Without one, nothing would leave the
process, yet that instrumentation still cost about a tenth of the CPU of an alert (attributes,
sampler, redaction hook, wrapped ``send``). `TraceIds` then only makes each request the current
span with fresh ids (continuing an incoming ``traceparent``), not recorded: the log lines and the
NATS ``traceparent`` header still tie an alert's path through the services together.
"""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry import context, trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Receive, Scope, Send

from libs.common.telemetry import redact_span

_IDS = RandomIdGenerator()
_TRACEPARENT = TraceContextTextMapPropagator()


def trace_requests(app: FastAPI, provider: TracerProvider, *, record: bool) -> None:
    """Give every request of ``app`` a span: recorded by ``provider``, or ids only."""
    if not record:
        app.add_middleware(TraceIds)
        return
    # As `libs.common.service.mount_ops` does, minus the ASGI ``receive`` and ``send`` child
    # spans: they hold nothing a webhook investigation needs, and each span's redaction costs
    # CPU on the hot path (about 40 µs per span on this machine).
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls="healthz,readyz,metrics",
        server_request_hook=lambda span, _scope: redact_span(span),
        exclude_spans=["receive", "send"],
    )


class TraceIds:
    """ASGI middleware: each HTTP request runs inside a non-recorded span with its own ids."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request with its span current; other scopes (lifespan) pass through."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        token = context.attach(trace.set_span_in_context(request_span(scope)))
        try:
            await self._app(scope, receive, send)
        finally:
            context.detach(token)


def request_span(scope: Scope) -> trace.NonRecordingSpan:
    """Return a span with a new span id, in the caller's trace if it sent a ``traceparent``."""
    trace_id = 0
    for name, value in scope["headers"]:
        if name == b"traceparent":
            carrier = {"traceparent": value.decode("latin-1")}
            parent = trace.get_current_span(_TRACEPARENT.extract(carrier)).get_span_context()
            trace_id = parent.trace_id  # 0 when the header is not valid
            break
    span_context = trace.SpanContext(
        trace_id or _IDS.generate_trace_id(), _IDS.generate_span_id(), is_remote=False
    )
    return trace.NonRecordingSpan(span_context)

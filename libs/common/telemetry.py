"""OpenTelemetry tracing for every service, with secrets redacted before any span is exported.

The ASGI instrumentation records the raw request path (`http.target`, `url.path`...), and
for ingress that path is `/webhooks/tv/<token>`. Two hooks keep the token out of traces:
`RedactingSpanProcessor.on_start` cleans what a span starts with, and the server request
hook that `instrument_fastapi` installs cleans it again after the instrumentation re-sets
the same raw attributes right after starting the span. What is recorded later (attributes,
exception events with raw ccxt or SQL text, the status) is redacted at export: the OTLP
exporter is wrapped in `libs.common.span_export.RedactingExporter`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.util.types import Attributes, AttributeValue

from libs.common.redaction import redact
from libs.common.span_export import RedactingExporter

_EXCLUDED_URLS = "healthz,readyz,metrics"
_TRACES_PATH = "/v1/traces"


class RedactingSpanProcessor(SpanProcessor):
    """Redact the name and string attributes a span starts with; register it first."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Rewrite the span in place, so every later processor and exporter sees safe text."""
        redact_span(span)


def redact_span(span: trace.Span) -> None:
    """Replace secrets in the name and string attributes of a live SDK span."""
    if not isinstance(span, Span) or not span.is_recording():
        return
    name = redact(span.name)
    if name != span.name:
        span.update_name(name)
    # Copy first: set_attribute re-inserts the key, which would upset a live iteration.
    for key, value in list((span.attributes or {}).items()):
        safe = _redact_attribute(value)
        if safe != value:
            span.set_attribute(key, safe)


def _redact_attribute(value: AttributeValue) -> AttributeValue:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Sequence) and all(isinstance(item, str) for item in value):
        return [redact(str(item)) for item in value]
    return value


def _traces_url(endpoint: str) -> str:
    # The exporter posts to `endpoint` verbatim; accept the collector's base URL as well.
    if urlsplit(endpoint).path in ("", "/"):
        return endpoint.rstrip("/") + _TRACES_PATH
    return endpoint


def build_tracer_provider(
    service: str,
    *,
    otlp_endpoint: str | None = None,
    sample_ratio: float = 1.0,
    extra_processors: Sequence[SpanProcessor] = (),
) -> TracerProvider:
    """Build a provider for `sparky-<service>` without installing it globally.

    Spans are recorded only while something exports them (an OTLP endpoint, an extra
    processor, or one added later): otherwise every span is left unrecorded. It still has its
    trace and span ids, so log lines and the ``traceparent`` carried in NATS headers tie an
    alert's path together, but no attributes, events or processors are paid for per message.
    """
    provider = _Provider(
        resource=Resource.create({SERVICE_NAME: f"sparky-{service}"}),
        sampler=_WhileExporting(ParentBased(TraceIdRatioBased(sample_ratio))),
    )
    provider.add_span_processor(RedactingSpanProcessor())
    if otlp_endpoint:
        exporter = OTLPSpanExporter(endpoint=_traces_url(otlp_endpoint))
        provider.add_span_processor(BatchSpanProcessor(RedactingExporter(exporter)))
    for processor in extra_processors:
        provider.add_span_processor(processor)
    return provider


class _WhileExporting(Sampler):
    """``inner``'s decision once a span processor that exports was added; drop until then."""

    def __init__(self, inner: Sampler) -> None:
        self.inner = inner
        self.exporting = False

    def should_sample(  # noqa: PLR0917 - the Sampler interface's signature
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: trace.SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[trace.Link] | None = None,
        trace_state: trace.TraceState | None = None,
    ) -> SamplingResult:
        sampler = self.inner if self.exporting else ALWAYS_OFF
        return sampler.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"WhileExporting{{{self.inner.get_description()}}}"


class _Provider(TracerProvider):
    """A provider whose `_WhileExporting` sampler starts recording with the first exporter."""

    def __init__(self, *, resource: Resource, sampler: _WhileExporting) -> None:
        super().__init__(resource=resource, sampler=sampler)
        self._gate = sampler

    def add_span_processor(self, span_processor: SpanProcessor) -> None:
        super().add_span_processor(span_processor)
        if not isinstance(span_processor, RedactingSpanProcessor):
            self._gate.exporting = True


def setup_tracing(
    service: str,
    *,
    otlp_endpoint: str | None,
    sample_ratio: float = 1.0,
    extra_processors: Sequence[SpanProcessor] = (),
) -> TracerProvider:
    """Install the global tracer provider once and return the one in force.

    OpenTelemetry refuses to replace a global provider, so a second call returns the first
    call's provider and ignores its own arguments. `otlp_endpoint` may be the collector's
    base URL (`http://collector:4318`) or the full traces URL; None exports nothing.
    """
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    provider = build_tracer_provider(
        service,
        otlp_endpoint=otlp_endpoint,
        sample_ratio=sample_ratio,
        extra_processors=extra_processors,
    )
    trace.set_tracer_provider(provider)
    in_force = trace.get_tracer_provider()
    if in_force is not provider and isinstance(in_force, TracerProvider):
        provider.shutdown()  # another thread won the race; do not leak our exporter thread
        return in_force
    return provider


def shutdown_tracing() -> None:
    """Flush buffered spans and stop exporting; call it when the service shuts down."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.shutdown()


def _redact_server_span(span: trace.Span, scope: dict[str, Any]) -> None:
    redact_span(span)


def instrument_fastapi(app: FastAPI, tracer_provider: TracerProvider) -> None:
    """Trace every request of `app` except the health, readiness and metrics probes."""
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=tracer_provider,
        excluded_urls=_EXCLUDED_URLS,
        server_request_hook=_redact_server_span,
        # One span per request is enough; per-chunk receive/send spans cost CPU and say little.
        exclude_spans=["receive", "send"],
    )

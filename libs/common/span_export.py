"""Redaction at export: every span leaves the process through `RedactingExporter`.

Redacting when a span starts (`libs.common.telemetry.RedactingSpanProcessor`) is not enough:
attributes set later, the exception events a failing call records (their message and
stacktrace carry raw ccxt and SQL text) and the status description arrive after the start. So
the exporter of every service is wrapped, and what it sends is a copy of each span whose name,
attributes, events (names and attributes), links' attributes and status description went
through the shared redactor (`libs.common.redaction`): registered secrets and Sparky's own
prefixed tokens never reach the collector, whatever was recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import Link, Status
from opentelemetry.util.types import Attributes

from libs.common.redaction import redact


def _value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bytes):
        return redact(value.decode("utf-8", "replace"))
    if isinstance(value, Mapping):
        return {k: _value(v) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [_value(v) for v in value]
    return value


def _attributes(attributes: Attributes) -> dict[str, Any]:
    return {key: _value(value) for key, value in (attributes or {}).items()}


def redacted(span: ReadableSpan) -> ReadableSpan:
    """Return a copy of ``span`` with every text it carries redacted."""
    status = span.status
    if status.description:
        status = Status(status.status_code, redact(status.description))
    events = [Event(redact(e.name), _attributes(e.attributes), e.timestamp) for e in span.events]
    links = [Link(link.context, _attributes(link.attributes)) for link in span.links]
    return ReadableSpan(
        name=redact(span.name),
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=_attributes(span.attributes),
        events=events,
        links=links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class RedactingExporter(SpanExporter):
    """Export through ``inner`` only redacted copies of the spans."""

    def __init__(self, inner: SpanExporter) -> None:
        self._inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self._inner.export([redacted(span) for span in spans])

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._inner.force_flush(timeout_millis)

"""Spans of a webhook call: useful, and without the token."""

from __future__ import annotations

from nats.js import JetStreamContext
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from libs.common.telemetry import build_tracer_provider
from libs.common.topology import Topology
from services.ingress.api.tracing import CALLER_TRACE_ATTRIBUTE
from services.ingress.config import IngressSettings
from tests.helpers.ingress import (
    add_hook,
    alert_body,
    new_token,
    serve_in_process,
    stored,
    until_known,
)


async def test_spans_name_the_route_and_outcome_but_never_hold_the_token(
    js: JetStreamContext, topology: Topology, settings: IngressSettings, redis_client: object
) -> None:
    exporter = InMemorySpanExporter()
    provider = build_tracer_provider(
        "ingress", sample_ratio=1.0, extra_processors=[SimpleSpanProcessor(exporter)]
    )
    hook = await add_hook(js, topology)
    stranger = new_token()
    async with serve_in_process(settings, tracer_provider=provider) as client:
        await until_known(client, hook)
        accepted = await client.post(hook.path, content=alert_body())
        unknown = await client.post(f"/webhooks/tv/{stranger}", content=alert_body())
    provider.shutdown()

    spans = exporter.get_finished_spans()
    text = " ".join(f"{s.name} {dict(s.attributes or {})}" for s in spans)
    leaked = hook.token in text or stranger in text
    assert not leaked, "a webhook token appears in a span"  # a bool: no token in the report
    assert (accepted.status_code, unknown.status_code) == (202, 401)
    server = [s for s in spans if (s.attributes or {}).get("sparky.outcome")]
    outcomes = {(s.attributes or {})["sparky.outcome"] for s in server}
    assert {"accepted", "unauthorized"} <= outcomes
    assert {s.name for s in server} == {"POST /webhooks/tv/{token}"}
    assert any("intents" in s.name for s in spans)  # the publish, linked to the router


CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c"


async def test_a_callers_traceparent_starts_no_trace_of_ours_and_is_kept_only_as_its_id(
    js: JetStreamContext, topology: Topology, settings: IngressSettings, redis_client: object
) -> None:
    exporter = InMemorySpanExporter()
    provider = build_tracer_provider(
        "ingress", sample_ratio=1.0, extra_processors=[SimpleSpanProcessor(exporter)]
    )
    hook = await add_hook(js, topology)
    caller = {
        "traceparent": f"00-{CALLER_TRACE}-b7ad6b7169203331-01",
        "tracestate": "vendor=anything",
        "baggage": "tenant_id=someone-else",
    }
    malformed = {"traceparent": f"00-{CALLER_TRACE}-not-a-span-01"}
    async with serve_in_process(settings, tracer_provider=provider) as client:
        await until_known(client, hook)
        exporter.clear()
        joined = await client.post(hook.path, content=alert_body(id="1"), headers=caller)
        forged = await client.post(hook.path, content=alert_body(id="2"), headers=malformed)
    provider.shutdown()

    assert (joined.status_code, forged.status_code) == (202, 202)
    server = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert len(server) == 2
    first, second = sorted(server, key=lambda s: s.start_time or 0)
    assert first.parent is None
    assert second.parent is None
    assert first.context.trace_id != int(CALLER_TRACE, 16)  # a new trace of ours
    assert (first.attributes or {}).get(CALLER_TRACE_ATTRIBUTE) == CALLER_TRACE
    assert CALLER_TRACE_ATTRIBUTE not in (second.attributes or {})  # malformed: ignored
    intents = await stored(js, topology.intents_stream)
    published = [dict(m.headers or {}) for m in intents]
    assert [traceparent_trace_id(h["traceparent"]) for h in published] == [
        f"{first.context.trace_id:032x}",
        f"{second.context.trace_id:032x}",
    ]  # the router and the executor join ingress's trace, never the caller's
    assert not any("tracestate" in h or "baggage" in h for h in published)


def traceparent_trace_id(header: str) -> str:
    """Return the trace id field of a W3C ``traceparent``."""
    return header.split("-")[1]

"""Spans of a webhook call: useful, and without the token."""

from __future__ import annotations

from nats.js import JetStreamContext
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from libs.common.telemetry import build_tracer_provider
from libs.common.topology import Topology
from services.ingress.config import IngressSettings
from tests.helpers.ingress import add_hook, alert_body, new_token, serve_in_process, until_known


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

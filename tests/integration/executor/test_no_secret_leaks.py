"""No exchange key or secret appears in any log line, span or API answer, whatever happens."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from nats.js import JetStreamContext
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from libs.common.logs import configure_logging
from libs.common.topology import Topology
from tests.helpers.executor import kinds, market_order, publish_order, seed_tenant, wait_for_events
from tests.helpers.paper import PaperExchangeProcess
from tests.integration.executor.orders import paper_tenant

T = "tenant-leaks"
URL = "/api/v1/exchange-accounts"


@pytest.fixture
def spans(app: FastAPI) -> Iterator[InMemorySpanExporter]:
    """Every span the process finishes during the test (the app installed the provider)."""
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()


@pytest.fixture
def log_output(app: FastAPI) -> Iterator[io.StringIO]:
    """What the service's own log handler (redaction included) writes, at DEBUG."""
    buffer = io.StringIO()
    configure_logging("executor", level="DEBUG", stream=buffer)
    yield buffer
    configure_logging("executor", level="INFO")


def span_text(exporter: InMemorySpanExporter) -> str:
    parts = []
    for span in exporter.get_finished_spans():
        parts.append(span.name)
        parts.extend(f"{k}={v!r}" for k, v in (span.attributes or {}).items())
        for event in span.events:
            parts.extend(f"{k}={v!r}" for k, v in (event.attributes or {}).items())
    return "\n".join(parts)


async def test_keys_never_appear_in_logs_spans_or_answers(
    *,
    spans: InMemorySpanExporter,
    http: httpx.AsyncClient,
    js: JetStreamContext,
    topology: Topology,
    paper: PaperExchangeProcess,
    log_output: io.StringIO,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    answers: list[str] = []
    good = await paper_tenant(http, js, topology, paper, T)
    key = await seed_tenant(js, topology, T, api=http, max_exchange_accounts=None)
    auth = {"Authorization": f"Bearer {key}"}
    bogus = {"api_key": "BOGUSKEY-0123456789abcdef", "secret": "BOGUSSECRET-0123456789abcdef"}
    body = {"label": "spare", "exchange_id": "binance", "mode": "paper", **bogus}
    answers.append((await http.post(URL, json=body, headers=auth)).text)  # refused keys
    answers.append((await http.post(URL, json=body, headers=auth)).text)  # label taken
    answers.append((await http.post(URL, json={**bogus, "label": 5}, headers=auth)).text)  # 422
    answers.append((await http.get(URL, headers=auth)).text)
    fresh = await paper.create_account({"USDT": "10"})
    keys = {"api_key": fresh.api_key, "secret": fresh.secret}
    answers.append((await http.patch(f"{URL}/spare", json=keys, headers=auth)).text)
    answers.append((await http.post(f"{URL}/spare/validate", headers=auth)).text)

    await publish_order(js, topology, market_order(T))  # filled with the good keys
    await publish_order(js, topology, market_order(T, account_label="spare"))  # too little money
    await wait_for_events(js, topology, T, lambda es: "order.rejected" in kinds(es))
    await paper.delete_account(good.account_id)
    await publish_order(js, topology, market_order(T))  # keys refused while trading
    events = await wait_for_events(js, topology, T, lambda es: "order.failed" in kinds(es))
    assert kinds(events) == [
        "order.submitted",
        "order.filled",
        "order.rejected",
        "order.failed",
    ]

    secrets = [good.api_key, good.secret, fresh.api_key, fresh.secret, *bogus.values()]
    haystacks = {
        "log output": log_output.getvalue(),
        "log records": caplog.text,
        "spans": span_text(spans),
        "API answers": "\n".join(answers),
        "events": "\n".join(e.model_dump_json() for e in events),
    }
    assert haystacks["spans"], "no span was recorded: the scan would prove nothing"
    assert "order handled" in haystacks["log output"]
    for where, text in haystacks.items():
        for secret in secrets:
            assert secret not in text, f"a key leaked into {where}"

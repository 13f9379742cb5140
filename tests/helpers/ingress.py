"""Helpers for the ingress tests: a clock to move, webhooks and tenants in the real buckets,
and the app served in-process with its lifespan running.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from nats.js import JetStreamContext
from nats.js.api import RawStreamMsg
from opentelemetry.sdk.trace import TracerProvider

from libs.common.messages.types import utcnow
from libs.common.records import TenantRecord, WebhookTokenRecord, secret_digest
from libs.common.redaction import redact
from libs.common.topology import Topology
from services.ingress.app import create_app
from services.ingress.config import IngressSettings
from tests import factories
from tests.helpers.polling import eventually

TRADINGVIEW_IP = "52.89.214.238"


@dataclass
class FakeClock:
    """A clock a test moves by hand."""

    now: datetime = field(default_factory=utcnow)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def new_token() -> str:
    """Return a token shaped like the ones billing issues."""
    return "whk_" + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Hook:
    """A webhook in the test's buckets: its secret URL token and its records."""

    token: str = field(repr=False)  # never in a test report
    record: WebhookTokenRecord
    tenant: TenantRecord

    @property
    def path(self) -> str:
        return f"/webhooks/tv/{self.token}"


async def put_tenant(js: JetStreamContext, topology: Topology, tenant: TenantRecord) -> None:
    kv = await js.key_value(topology.tenants_bucket)
    await kv.put(tenant.tenant_id, tenant.model_dump_json().encode())


async def put_webhook(
    js: JetStreamContext, topology: Topology, token: str, record: WebhookTokenRecord
) -> None:
    kv = await js.key_value(topology.webhook_tokens_bucket)
    await kv.put(secret_digest(token), record.model_dump_json().encode())


async def add_hook(
    js: JetStreamContext,
    topology: Topology,
    *,
    tenant: TenantRecord | None = None,
    **record_fields: Any,
) -> Hook:
    """Create a tenant (unlimited alerts unless given) and a webhook of it in the buckets."""
    owner = tenant or factories.tenant_record(
        limits=factories.plan_limits(max_alerts_per_hour=None)
    )
    record = factories.webhook_record(owner.tenant_id, **record_fields)
    token = new_token()
    await put_tenant(js, topology, owner)
    await put_webhook(js, topology, token, record)
    return Hook(token, record, owner)


def ingress_settings(
    namespace: str, nats_url: str, redis_url: str, **overrides: Any
) -> IngressSettings:
    """Return settings for a test: its namespace, its Redis prefix, short timeouts."""
    fields: dict[str, Any] = {
        "environment": "test",
        "namespace": namespace,
        "nats_url": nats_url,
        "redis_url": redis_url,
        "rate_limit_key_prefix": f"{namespace}:",
        "publish_timeout_s": 1.0,
        "log_json": True,
    }
    return IngressSettings(**(fields | overrides))


@asynccontextmanager
async def serve_in_process(
    settings: IngressSettings,
    clock: FakeClock | None = None,
    client_ip: str = TRADINGVIEW_IP,
    tracer_provider: TracerProvider | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app with its lifespan; yield a client whose requests come from ``client_ip``."""
    provider = tracer_provider or TracerProvider()
    app = create_app(settings, clock=clock or utcnow, tracer_provider=provider)
    async with LifespanManager(app, startup_timeout=20, shutdown_timeout=20) as manager:
        transport = httpx.ASGITransport(app=manager.app, client=(client_ip, 40_000))
        async with httpx.AsyncClient(transport=transport, base_url="http://ingress") as client:
            yield client


def alert_body(**fields: Any) -> bytes:
    """Return a valid JSON alert, with ``fields`` added or replaced."""
    base: dict[str, Any] = {"action": "buy", "ticker": "BINANCE:BTCUSDT", "qty": "0.01"}
    return json.dumps(base | fields).encode()


async def until_status(
    client: httpx.AsyncClient,
    path: str,
    status: int,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    timeout_s: float = 5,
) -> None:
    """Post ``body`` until the answer is ``status``."""

    async def answer() -> int:
        return (await client.post(path, content=body, headers=headers)).status_code

    # The path holds the token: never print it, even in a failing test's report.
    what = f"{redact(path)} answering {status}"
    await eventually(
        answer, until=lambda got: got == status, what=what, timeout_s=timeout_s, interval_s=0.01
    )


async def until_known(client: httpx.AsyncClient, hook: Hook) -> None:
    """Wait until ingress's copy of the buckets knows ``hook`` (an empty body then gets 400,
    so nothing is stored while waiting).
    """
    await until_status(client, hook.path, 400)


async def stored(js: JetStreamContext, stream: str) -> list[RawStreamMsg]:
    """Return every message of ``stream``, oldest first."""
    state = (await js.stream_info(stream)).state
    if not state.messages:
        return []
    return [await js.get_msg(stream, seq) for seq in range(state.first_seq, state.last_seq + 1)]


async def stored_eventually(
    js: JetStreamContext, stream: str, count: int, timeout_s: float = 5, *, kind: str = ""
) -> list[RawStreamMsg]:
    """Return the messages of ``stream`` (whose subject ends with ``.<kind>``, when given)
    once it holds ``count`` of them (``IntentAccepted`` is sent after the answer's PubAck and
    lands a moment later); fail after ``timeout_s``.
    """
    suffix = f".{kind}" if kind else ""
    found: list[RawStreamMsg] = []

    async def how_many() -> int:  # a count, not the messages: the failure shows no payload
        found[:] = [m for m in await stored(js, stream) if (m.subject or "").endswith(suffix)]
        return len(found)

    await eventually(
        how_many,
        until=lambda n: n >= count,
        what=f"{count} messages in {stream}",
        timeout_s=timeout_s,
        interval_s=0.01,
    )
    return found

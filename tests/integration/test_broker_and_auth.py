"""The broker carries trace context; API keys work against the real KV buckets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from faststream.nats import JStream, NatsMessage, PullSub
from nats.aio.client import Client
from nats.js import JetStreamContext
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import REGISTRY, generate_latest

from libs.common.auth import ApiKeyAuthenticator, CurrentTenant
from libs.common.broker import make_broker, publish_message
from libs.common.config import ServiceSettings, load_settings
from libs.common.kv_mirror import KVMirror
from libs.common.messages import OrderIntent
from libs.common.publishing import metric_subject
from libs.common.records import ApiKeyRecord, TenantRecord, TenantStatus, secret_digest
from libs.common.topology import Topology
from tests import factories
from tests.helpers.polling import eventually
from tests.helpers.servers import ServerUrls


async def test_a_published_message_reaches_a_subscriber_with_its_trace_context(
    server_urls: ServerUrls, topology: Topology, js: JetStreamContext
) -> None:
    settings = load_settings(
        ServiceSettings, nats_url=server_urls.nats, namespace=topology.namespace
    )
    broker = make_broker(settings, "test", tracer_provider=TracerProvider())
    received: asyncio.Queue[tuple[OrderIntent, dict[str, str]]] = asyncio.Queue()
    intent = factories.order_intent()

    @broker.subscriber(
        topology.intents_filter(topology.partition_of(intent.tenant_id)),
        stream=JStream(topology.intents_stream, declare=False),
        durable="router-test",
        pull_sub=PullSub(batch_size=10, timeout=0.2),
    )
    async def handle(body: OrderIntent, msg: NatsMessage) -> None:
        await received.put((body, dict(msg.headers)))

    async with broker:
        await broker.start()
        ack = await publish_message(
            broker,
            topology.intent_subject(intent.tenant_id),
            intent,
            stream=topology.intents_stream,
            msg_id=intent.dedup_key,
        )
        body, headers = await asyncio.wait_for(received.get(), 10)
    assert ack.stream == topology.intents_stream
    assert body == intent
    assert headers["Nats-Msg-Id"] == intent.dedup_key
    assert headers["traceparent"].startswith("00-")


KEY = "spk_" + "integration" * 4


@pytest.fixture
async def api(
    nc: Client, js: JetStreamContext, topology: Topology
) -> AsyncIterator[tuple[httpx.AsyncClient, JetStreamContext]]:
    keys = KVMirror(
        nc, await js.key_value(topology.api_keys_bucket), ApiKeyRecord.model_validate_json
    )
    tenants = KVMirror(
        nc, await js.key_value(topology.tenants_bucket), TenantRecord.model_validate_json
    )
    await keys.start()
    await tenants.start()
    app = FastAPI()
    app.state.authenticator = ApiKeyAuthenticator(keys, tenants)

    @app.get("/api/v1/me")
    def me(tenant: CurrentTenant) -> dict[str, str]:
        return {"tenant_id": tenant.tenant_id}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c, js
    await keys.stop()
    await tenants.stop()


async def test_revoked_key_and_suspended_tenant_stop_working_within_two_seconds(
    api: tuple[httpx.AsyncClient, JetStreamContext], topology: Topology
) -> None:
    client, js = api
    tenant = factories.tenant_record()
    tenants = await js.key_value(topology.tenants_bucket)
    keys = await js.key_value(topology.api_keys_bucket)
    await tenants.put(tenant.tenant_id, tenant.model_dump_json().encode())
    record = factories.api_key_record(tenant.tenant_id)
    await keys.put(secret_digest(KEY), record.model_dump_json().encode())
    headers = {"Authorization": f"Bearer {KEY}"}

    async def status() -> int:
        return (await client.get("/api/v1/me", headers=headers)).status_code

    async def poll_until(code: int) -> None:
        await eventually(
            status, until=lambda c: c == code, what=f"/me answering {code}", timeout_s=2.0
        )

    await poll_until(200)
    suspended = tenant.model_copy(update={"status": TenantStatus.SUSPENDED})
    await tenants.put(tenant.tenant_id, suspended.model_dump_json().encode())
    await poll_until(403)
    await tenants.put(tenant.tenant_id, tenant.model_dump_json().encode())
    await poll_until(200)
    await keys.delete(secret_digest(KEY))
    await poll_until(401)


def test_metric_subjects_never_carry_a_tenant_id() -> None:
    assert metric_subject("sp.intents.3.tenant-a") == "sp.intents.3.*"
    assert metric_subject("sp.orders.12.tenant-a") == "sp.orders.12.*"
    assert metric_subject("sp.events.tenant-a.order.filled") == "sp.events.*.order.filled"
    assert metric_subject("$KV.sp_tenants.tenant-a") == "$KV.sp_tenants.*"
    assert metric_subject("sp.dlq.intents") == "sp.dlq.intents"


async def test_publishing_for_many_tenants_adds_no_tenant_to_the_metrics(
    server_urls: ServerUrls, topology: Topology, js: JetStreamContext
) -> None:
    settings = load_settings(
        ServiceSettings, nats_url=server_urls.nats, namespace=topology.namespace
    )
    broker = make_broker(settings, "metrics-test")
    intents = [factories.order_intent(tenant_id=f"tenant-{i}") for i in range(5)]
    async with broker:
        await broker.connect()
        for intent in intents:
            await publish_message(
                broker,
                topology.intent_subject(intent.tenant_id),
                intent,
                stream=topology.intents_stream,
            )
    stored = REGISTRY.get_sample_value(
        "sparky_published_messages_total",
        {"component": "metrics-test", "stream": topology.intents_stream, "outcome": "stored"},
    )
    assert stored == 5
    exposition = generate_latest(REGISTRY).decode()
    assert "tenant-" not in exposition

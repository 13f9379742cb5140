"""Streams, dedup and redelivery on the real NATS JetStream server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from faststream.nats import NatsBroker
from nats.js import JetStreamContext

from libs.common.broker import make_broker, publish_message
from libs.common.config import ServiceSettings, load_settings
from libs.common.jetstream import consumer_config, ensure_topology, stream_config
from libs.common.messages import OrderIntent, decode_event
from libs.common.topology import Topology
from tests import factories
from tests.helpers.servers import ServerUrls


@pytest.fixture
async def broker(
    server_urls: ServerUrls, topology: Topology, js: JetStreamContext
) -> AsyncIterator[NatsBroker]:
    settings = load_settings(
        ServiceSettings, nats_url=server_urls.nats, namespace=topology.namespace
    )
    broker = make_broker(settings, "test")
    await broker.connect()
    yield broker
    await broker.stop()


async def test_creating_the_topology_twice_changes_nothing(
    js: JetStreamContext, topology: Topology
) -> None:
    before = {s.name: await js.stream_info(s.name) for s in topology.streams()}
    await ensure_topology(js, topology)
    await ensure_topology(js, topology)
    for spec in topology.streams():
        after = await js.stream_info(spec.name)
        assert after.config == before[spec.name].config
        assert after.created == before[spec.name].created
    for bucket in topology.buckets():
        assert (await js.key_value(bucket)) is not None


async def test_a_changed_setting_updates_the_stream_in_place(
    js: JetStreamContext, topology: Topology
) -> None:
    kv = await js.key_value(topology.tenants_bucket)
    await kv.put("t1", b"kept")
    await js.publish(topology.intent_subject("t1"), b"kept", stream=topology.intents_stream)
    longer = Topology(namespace=topology.namespace, intents_duplicate_window_s=120.0)
    await ensure_topology(js, longer)
    info = await js.stream_info(topology.intents_stream)
    assert info.config.duplicate_window == 120.0
    assert info.state.messages == 1
    assert (await kv.get("t1")).value == b"kept"


async def test_same_msg_id_published_twice_is_stored_once(
    broker: NatsBroker, js: JetStreamContext, topology: Topology
) -> None:
    intent = factories.order_intent()
    subject = topology.intent_subject(intent.tenant_id)
    first = await publish_message(
        broker, subject, intent, stream=topology.intents_stream, msg_id=intent.dedup_key
    )
    again = factories.order_intent(dedup_key=intent.dedup_key)  # a resend: new ids, same key
    second = await publish_message(
        broker, subject, again, stream=topology.intents_stream, msg_id=intent.dedup_key
    )
    assert not first.duplicate
    assert second.duplicate
    assert second.seq == first.seq
    assert (await js.stream_info(topology.intents_stream)).state.messages == 1
    stored = await js.get_msg(topology.intents_stream, first.seq)
    assert OrderIntent.model_validate_json(stored.data or b"") == intent


async def test_an_unacked_message_is_redelivered(js: JetStreamContext, topology: Topology) -> None:
    intent = factories.order_intent()
    p = topology.partition_of(intent.tenant_id)
    durable = topology.consumer_name("router", p)
    await js.add_consumer(
        topology.intents_stream, consumer_config(durable, topology.intents_filter(p), ack_wait_s=1)
    )
    await js.publish(
        topology.intent_subject(intent.tenant_id), intent.to_json(), stream=topology.intents_stream
    )
    sub = await js.pull_subscribe_bind(durable, stream=topology.intents_stream)
    (first,) = await sub.fetch(1, timeout=5)
    assert first.metadata.num_delivered == 1  # not acked: the consumer must give it back
    (second,) = await sub.fetch(1, timeout=5)  # once the ack wait (1 s) has passed
    assert second.data == first.data
    assert second.metadata.num_delivered == 2
    await second.ack()
    with pytest.raises(asyncio.TimeoutError):  # acked: nothing comes back past the ack wait
        await sub.fetch(1, timeout=1.7)


async def test_events_round_trip_through_the_stream_exactly(
    broker: NatsBroker, js: JetStreamContext, topology: Topology
) -> None:
    events = factories.every_event()
    for event in events:
        kind = event.model_dump()["kind"]
        await publish_message(
            broker,
            topology.event_subject(event.tenant_id, kind),
            event,
            stream=topology.events_stream,
        )
    sub = await js.pull_subscribe(topology.events_filter, stream=topology.events_stream)
    received = await sub.fetch(len(events), timeout=5)
    assert [decode_event(m.data) for m in received] == events
    assert [m.subject for m in received] == [
        topology.event_subject(e.tenant_id, e.model_dump()["kind"]) for e in events
    ]
    assert [(m.headers or {})["Nats-Msg-Id"] for m in received] == [e.message_id for e in events]


def test_streams_keep_what_the_architecture_promises() -> None:
    topo = Topology(namespace="x")
    configs = {s.name: stream_config(s) for s in topo.streams()}
    assert configs["x_INTENTS"].duplicate_window == 60.0
    assert configs["x_EVENTS"].max_age == 0  # long retention: the ledger is rebuilt from it
    assert configs["x_INTENTS"].subjects == ["x.intents.>"]

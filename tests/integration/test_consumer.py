"""The consumption layer: each key's order through retries, poison and crashes; batches."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace

import pytest
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api
from opentelemetry import trace
from prometheus_client import REGISTRY

from libs.common.consumer import (
    BatchConsumer,
    BatchSpec,
    ConsumerPolicy,
    ConsumerSpec,
    Outcome,
    PartitionedConsumer,
    tenant_from_subject,
)
from libs.common.errors import MalformedMessageError, TemporaryError
from libs.common.jetstream import consumer_config
from libs.common.publishing import KEY_HEADER
from libs.common.topology import Topology
from tests.helpers.polling import eventually

FAST = ConsumerPolicy(
    ack_wait_s=1.0,
    max_deliver=3,
    batch_size=50,
    fetch_timeout_s=0.2,
    retry_initial_s=0.02,
    retry_max_s=0.1,
    give_up_after_s=0.5,
    unexpected_attempts=2,
    lag_poll_s=0.5,
)
ROUTER = {"component": "router"}


@dataclass
class Recorder:
    """What the handler saw, per tenant, and the failures reported."""

    seen: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    failures: list[tuple[str, Outcome]] = field(default_factory=list)

    async def on_failure(self, msg: Msg, outcome: Outcome, exc: BaseException | None) -> None:
        self.failures.append((msg.data.decode(), outcome))


Behaviour = Callable[[str, int], Awaitable[None]]


@dataclass
class Harness:
    js: JetStreamContext
    topology: Topology
    recorder: Recorder
    consumers: list[PartitionedConsumer] = field(default_factory=list)

    async def publish(self, tenant: str, n: int) -> None:
        await self.js.publish(
            self.topology.intent_subject(tenant),
            f"{tenant}:{n}".encode(),
            stream=self.topology.intents_stream,
        )

    def start(self, behaviour: Behaviour, policy: ConsumerPolicy = FAST) -> PartitionedConsumer:
        async def handler(msg: Msg) -> None:
            tenant, n = msg.data.decode().split(":")
            assert tenant == tenant_from_subject(msg.subject)
            await behaviour(tenant, int(n))
            self.recorder.seen[tenant].append(int(n))

        return self.consumer(handler, policy)

    def consumer(
        self, handler: Callable[[Msg], Awaitable[None]], policy: ConsumerPolicy = FAST
    ) -> PartitionedConsumer:
        spec = ConsumerSpec(
            service="router",
            stream=self.topology.intents_stream,
            filter_of=self.topology.intents_filter,
            partitions=range(self.topology.partitions),
            handler=handler,
            on_failure=self.recorder.on_failure,
            deadletter_subject=self.topology.deadletter_subject("intents"),
            policy=policy,
        )
        consumer = PartitionedConsumer(self.js, spec)
        self.consumers.append(consumer)
        return consumer


@pytest.fixture
async def harness(js: JetStreamContext, topology: Topology) -> AsyncIterator[Harness]:
    h = Harness(js, Topology(namespace=topology.namespace, partitions=4), Recorder())
    yield h
    for consumer in h.consumers:
        await consumer.stop(timeout_s=1)


async def nothing(tenant: str, n: int) -> None:
    await asyncio.sleep(0)


async def test_each_tenant_is_handled_in_stream_order_while_tenants_interleave(
    harness: Harness,
) -> None:
    rng = random.Random(3)

    async def jitter(tenant: str, n: int) -> None:
        await asyncio.sleep(rng.random() / 200)

    tenants = [f"tenant{i}" for i in range(20)]
    for n in range(25):
        for tenant in tenants:
            await harness.publish(tenant, n)
    consumer = harness.start(jitter)
    await consumer.start()
    await eventually(
        lambda: sum(map(len, harness.recorder.seen.values())) == 500,
        what="sum(map(len, harness.recorder.seen.values())) == 500",
    )
    assert all(harness.recorder.seen[t] == list(range(25)) for t in tenants)
    await eventually(lambda: consumer.buffered == 0, what="consumer.buffered == 0")


async def test_a_stuck_tenant_does_not_stall_the_others(harness: Harness) -> None:
    release = asyncio.Event()

    async def slow_for_one(tenant: str, n: int) -> None:
        if tenant == "stuck":
            await release.wait()

    await harness.publish("stuck", 0)
    await harness.publish("stuck", 1)
    for n in range(5):
        await harness.publish("other", n)
    consumer = harness.start(slow_for_one)
    await consumer.start()
    await eventually(
        lambda: harness.recorder.seen["other"] == list(range(5)),
        what='harness.recorder.seen["other"] == list(range(5))',
    )
    assert harness.recorder.seen["stuck"] == []
    release.set()
    await eventually(
        lambda: harness.recorder.seen["stuck"] == [0, 1],
        what="stuck's messages [0, 1] handled",
    )


async def test_a_temporary_failure_is_retried_in_place_before_the_next_message(
    harness: Harness,
) -> None:
    attempts: dict[int, int] = defaultdict(int)

    async def flaky_first(tenant: str, n: int) -> None:
        attempts[n] += 1
        if n == 0 and attempts[n] < 3:
            raise TemporaryError("exchange busy")

    await harness.publish("t", 0)
    await harness.publish("t", 1)
    await harness.start(flaky_first).start()
    await eventually(
        lambda: harness.recorder.seen["t"] == [0, 1],
        what="t's messages [0, 1] handled",
    )
    assert attempts == {0: 3, 1: 1}
    assert harness.recorder.failures == []


async def test_giving_up_on_a_temporary_failure_reports_it_and_moves_on(
    harness: Harness, js: JetStreamContext
) -> None:
    async def always_down(tenant: str, n: int) -> None:
        if n == 0:
            raise TemporaryError("exchange down")

    await harness.publish("t", 0)
    await harness.publish("t", 1)
    await harness.start(always_down).start()
    await eventually(
        lambda: harness.recorder.seen["t"] == [1],
        what="t's messages [1] handled",
    )
    assert harness.recorder.failures == [("t:0", Outcome.GAVE_UP)]
    dlq = await js.stream_info(harness.topology.deadletter_stream)
    assert dlq.state.messages == 0  # a reported failure is not poison


async def test_a_poison_message_is_dead_lettered_and_the_tenant_continues(
    harness: Harness, js: JetStreamContext
) -> None:
    async def bug_on_zero(tenant: str, n: int) -> None:
        if n == 0:
            raise KeyError("field missing")

    await harness.publish("t", 0)
    await harness.publish("t", 1)
    await harness.start(bug_on_zero).start()
    await eventually(
        lambda: harness.recorder.seen["t"] == [1],
        what="t's messages [1] handled",
    )
    assert harness.recorder.failures == [("t:0", Outcome.POISON)]
    dead = await js.get_msg(harness.topology.deadletter_stream, 1)
    assert dead.data == b"t:0"
    assert dead.headers is not None
    assert dead.headers["Sparky-Outcome"] == "poison"
    assert "KeyError" in dead.headers["Sparky-Error"]


async def test_a_malformed_message_is_dead_lettered_at_once_without_retries(
    harness: Harness, js: JetStreamContext
) -> None:
    attempts: list[int] = []

    async def forged_on_zero(tenant: str, n: int) -> None:
        if n == 0:
            attempts.append(n)
            raise MalformedMessageError("another tenant's message on this tenant's subject")

    await harness.publish("t", 0)
    await harness.publish("t", 1)
    await harness.start(forged_on_zero).start()
    await eventually(
        lambda: harness.recorder.seen["t"] == [1],
        what="t's messages [1] handled",
    )
    assert attempts == [0]  # never retried: no retry can make it right
    assert harness.recorder.failures == [("t:0", Outcome.POISON)]
    dead = await js.get_msg(harness.topology.deadletter_stream, 1)
    assert dead.headers is not None
    assert "MalformedMessageError" in dead.headers["Sparky-Error"]


async def _crash_holding(harness: Harness, durable: str, n: int) -> None:
    """Fetch ``n`` messages as a process that then dies without acking them."""
    topo = harness.topology
    p = topo.partition_of("t")
    await harness.js.add_consumer(
        topo.intents_stream,
        consumer_config(
            durable,
            topo.intents_filter(p),
            ack_wait_s=FAST.ack_wait_s,
            max_deliver=FAST.max_deliver,
            max_ack_pending=FAST.max_ack_pending,
        ),
    )
    sub = await harness.js.pull_subscribe_bind(durable, stream=topo.intents_stream)
    held = await sub.fetch(n, timeout=5)
    assert len(held) == n
    await sub.unsubscribe()


async def test_after_a_crash_the_held_message_is_handled_before_newer_ones(
    harness: Harness,
) -> None:
    await harness.publish("t", 0)
    await _crash_holding(harness, f"router-p{harness.topology.partition_of('t')}", 1)
    await harness.publish("t", 1)
    await harness.publish("t", 2)
    await harness.start(nothing).start()
    await eventually(
        lambda: len(harness.recorder.seen["t"]) == 3,
        what='len(harness.recorder.seen["t"]) == 3',
    )
    assert harness.recorder.seen["t"] == [0, 1, 2]


async def test_a_message_that_keeps_crashing_its_process_is_dead_lettered_unhandled(
    harness: Harness, js: JetStreamContext
) -> None:
    durable = f"router-p{harness.topology.partition_of('t')}"
    await harness.publish("t", 0)
    await _crash_holding(harness, durable, 1)
    sub = await js.pull_subscribe_bind(durable, stream=harness.topology.intents_stream)
    (again,) = await sub.fetch(1, timeout=5)  # redelivered past the ack wait: the second crash
    assert again.metadata.num_delivered == 2
    await sub.unsubscribe()
    await harness.publish("t", 1)
    await harness.start(nothing).start()
    await eventually(
        lambda: harness.recorder.seen["t"] == [1],
        what="t's messages [1] handled",
        timeout_s=15,
    )
    assert harness.recorder.failures == [("t:0", Outcome.MAX_DELIVERIES)]
    assert (await js.stream_info(harness.topology.deadletter_stream)).state.messages == 1


async def test_a_long_handler_is_not_redelivered_meanwhile(
    harness: Harness, js: JetStreamContext
) -> None:
    calls: list[int] = []
    redelivered: list[int] = []
    durable = f"router-p{harness.topology.partition_of('t')}"

    async def slow(tenant: str, n: int) -> None:
        calls.append(n)
        await asyncio.sleep(FAST.ack_wait_s * 2.5)
        info = await js.consumer_info(harness.topology.intents_stream, durable)
        redelivered.append(info.num_redelivered)

    await harness.publish("t", 0)
    await harness.publish("t", 1)
    await harness.start(slow).start()
    await eventually(
        lambda: harness.recorder.seen["t"] == [0, 1],
        what="t's messages [0, 1] handled",
        timeout_s=15,
    )
    assert calls == [0, 1]
    assert redelivered == [0, 0]  # in-progress acks kept the server from redelivering


async def test_messages_after_an_idle_spell_are_still_handled(harness: Harness) -> None:
    await harness.start(nothing).start()
    await harness.publish("t", 0)
    await eventually(
        lambda: harness.recorder.seen["t"] == [0],
        what="t's messages [0] handled",
    )
    await asyncio.sleep(FAST.fetch_timeout_s * 8)  # several fetches time out with nothing
    await harness.publish("t", 1)
    await eventually(
        lambda: harness.recorder.seen["t"] == [0, 1],
        what="t's messages [0, 1] handled",
    )


async def test_handling_continues_the_trace_of_the_messages_traceparent(
    harness: Harness,
) -> None:
    trace_ids: dict[str, int] = {}

    async def handler(msg: Msg) -> None:
        tenant = tenant_from_subject(msg.subject)
        trace_ids[tenant] = trace.get_current_span().get_span_context().trace_id

    consumer = harness.consumer(handler)
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    await harness.js.publish(
        harness.topology.intent_subject("traced"),
        b"traced:1",
        stream=harness.topology.intents_stream,
        headers={"traceparent": traceparent},
    )
    await consumer.start()
    await eventually(lambda: "traced" in trace_ids, what='"traced" in trace_ids')
    assert trace_ids["traced"] == 0x0AF7651916CD43DD8448EB211C80319C


async def test_a_tenants_markets_proceed_concurrently_each_in_its_own_order(
    harness: Harness,
) -> None:
    release = asyncio.Event()
    seen: list[tuple[str, int]] = []

    async def handler(msg: Msg) -> None:
        market = (msg.headers or {})[KEY_HEADER]
        n = int(msg.data.decode().split(":")[1])
        if market == "BTCUSDT" and n == 0:
            await release.wait()  # the tenant's first BTC order is slow at the exchange
        seen.append((market, n))

    subject = harness.topology.intent_subject("fund")
    for n in range(6):
        market = "BTCUSDT" if n % 2 == 0 else "ETHUSDT"
        await harness.js.publish(
            subject,
            f"fund:{n}".encode(),
            stream=harness.topology.intents_stream,
            headers={KEY_HEADER: market},
        )
    await harness.consumer(handler).start()
    await eventually(
        lambda: [m for m, _ in seen] == ["ETHUSDT"] * 3,
        what='[m for m, _ in seen] == ["ETHUSDT"] * 3',
    )  # not behind BTC's
    assert [n for _, n in seen] == [1, 3, 5]
    release.set()
    await eventually(lambda: len(seen) == 6, what="len(seen) == 6")
    assert [n for m, n in seen if m == "BTCUSDT"] == [0, 2, 4]


async def test_an_idle_partition_costs_no_pull_request_per_message(harness: Harness) -> None:
    def requests() -> float:
        return REGISTRY.get_sample_value("sparky_consumer_pull_requests_total", ROUTER) or 0.0

    before = requests()
    consumer = harness.start(nothing, replace(FAST, fetch_timeout_s=30.0))
    await consumer.start()
    for n in range(12):  # a trickle: each message arrives on its own
        await harness.publish("t", n)
        expected = list(range(n + 1))
        await eventually(
            lambda: harness.recorder.seen["t"] == expected,  # noqa: B023 - awaited at once
            what=f"messages 0 to {n} handled in order",
        )
    # A request too many would be made at once (it is what the test is about): give it the
    # time to show, as nothing can be polled for a request that should not happen.
    await asyncio.sleep(0.5)
    # One long request per partition served the trickle; nats-py's fetch paid one per message.
    assert requests() - before <= harness.topology.partitions + 1


@dataclass
class Batches:
    """What a batch handler saw."""

    batches: list[list[str]] = field(default_factory=list)

    @property
    def seen(self) -> list[str]:
        return [item for batch in self.batches for item in batch]


def batch_spec(
    harness: Harness, handler: Callable[[list[Msg]], Awaitable[None]], durable: str = "proj"
) -> BatchSpec:
    topo = harness.topology
    return BatchSpec(
        service="ledger",
        stream=topo.events_stream,
        durable=durable,
        filter_subject=topo.events_filter,
        handler=handler,
        deadletter_subject=topo.deadletter_subject("EVENTS"),
        policy=replace(FAST, batch_size=20, fill_s=0.05, window=20, ack_wait_s=2.0),
    )


async def publish_events(harness: Harness, items: list[str]) -> None:
    for item in items:
        await harness.js.publish(
            harness.topology.event_subject("t", "order.filled"),
            item.encode(),
            stream=harness.topology.events_stream,
        )


async def test_a_batch_consumer_hands_over_batches_in_order_with_one_ack_each(
    harness: Harness,
) -> None:
    seen = Batches()

    async def handler(msgs: list[Msg]) -> None:
        seen.batches.append([m.data.decode() for m in msgs])

    items = [f"e{n}" for n in range(50)]
    await publish_events(harness, items)
    consumer = BatchConsumer(harness.js, batch_spec(harness, handler))
    await consumer.start()
    try:
        await eventually(lambda: len(seen.seen) == 50, what="len(seen.seen) == 50")
        assert seen.seen == items
        assert max(map(len, seen.batches)) == 20  # batches, not messages one by one
        info = await harness.js.consumer_info(harness.topology.events_stream, "proj")
        assert info.config.ack_policy == api.AckPolicy.ALL
        await eventually(lambda: consumer.position == 50, what="consumer.position == 50")
        info = await harness.js.consumer_info(harness.topology.events_stream, "proj")
        assert (info.num_ack_pending, info.ack_floor.stream_seq) == (0, 50)
    finally:
        await consumer.stop()


async def test_a_bad_event_in_a_batch_is_dead_lettered_and_the_rest_applied(
    harness: Harness, js: JetStreamContext
) -> None:
    applied: list[str] = []
    attempts: dict[str, int] = defaultdict(int)

    async def handler(msgs: list[Msg]) -> None:
        items = [m.data.decode() for m in msgs]
        for item in items:
            attempts[item] += 1
        if "bad" in items:
            raise ValueError("cannot apply")
        if attempts["e1"] == 1:
            raise TemporaryError("database busy")  # retried in place, nothing skipped
        applied.extend(items)

    await publish_events(harness, ["e0", "e1", "bad", "e3"])
    consumer = BatchConsumer(harness.js, batch_spec(harness, handler))
    await consumer.start()
    try:
        await eventually(
            lambda: sorted(applied) == ["e0", "e1", "e3"],
            what='sorted(applied) == ["e0", "e1", "e3"]',
        )
        assert applied == ["e0", "e1", "e3"]
        dead = await js.get_msg(harness.topology.deadletter_stream, 1)
        assert dead.data == b"bad"
        assert dead.headers is not None
        assert dead.headers["Sparky-Outcome"] == "poison"
        assert dead.headers["Sparky-Consumer"] == "proj"
        await eventually(lambda: consumer.position == 4, what="consumer.position == 4")
    finally:
        await consumer.stop()


async def test_an_explicitly_acked_consumer_becomes_a_batch_one_from_its_ack_floor(
    harness: Harness,
) -> None:
    topo = harness.topology
    await publish_events(harness, ["e0", "e1", "e2"])
    await harness.js.add_consumer(
        topo.events_stream, consumer_config("proj", topo.events_filter, max_ack_pending=10)
    )
    sub = await harness.js.pull_subscribe_bind("proj", stream=topo.events_stream)
    first, _in_flight = await sub.fetch(2, timeout=5)
    await first.ack_sync()  # the old consumer applied e0; e1 was in flight when it stopped
    await sub.unsubscribe()
    seen = Batches()

    async def handler(msgs: list[Msg]) -> None:
        seen.batches.append([m.data.decode() for m in msgs])

    consumer = BatchConsumer(harness.js, batch_spec(harness, handler))
    await consumer.start()
    try:
        await eventually(lambda: seen.seen == ["e1", "e2"], what='seen.seen == ["e1", "e2"]')
    finally:
        await consumer.stop()

"""Crashes, outages and bad messages: no intent is lost, none is placed twice, traders are told."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import redis.asyncio as aioredis
from nats.js import JetStreamContext
from prometheus_client import REGISTRY

from libs.common.consumer import Outcome
from libs.common.ids import ClientOrderId, new_intent_id
from libs.common.jetstream import consumer_config
from libs.common.messages import OrderFilled, Side
from libs.common.topology import Topology
from services.router.runtime import RouterRuntime
from tests import factories
from tests.helpers.polling import eventually
from tests.helpers.private_postgres import private_postgres
from tests.helpers.router import Bus, account, futures, instrument, intent
from tests.integration.router.harness import FAST, Starter


async def test_an_intent_held_by_a_crashed_router_is_placed_once(
    start_router: Starter,
    bus: Bus,
    js: JetStreamContext,
    topology: Topology,
    redis_client: aioredis.Redis,
) -> None:
    await bus.put_tenant(factories.tenant_record("tenant-a"))
    await bus.put_account(account("tenant-a"))
    sent = intent("tenant-a")
    await bus.publish(sent)
    # A first router fetches the intent, publishes its order, and dies before acking (its
    # decision was kept before it published: there is no "published, not yet recorded" state).
    durable = topology.consumer_name("router", topology.partition_of("tenant-a"))
    await js.add_consumer(
        topology.intents_stream,
        consumer_config(
            durable,
            topology.intents_filter(topology.partition_of("tenant-a")),
            ack_wait_s=FAST.ack_wait_s,
            max_deliver=FAST.max_deliver,
        ),
    )
    sub = await js.pull_subscribe_bind(durable, stream=topology.intents_stream)
    (held,) = await sub.fetch(1, timeout=5)
    crashed = await start_router(consume=False)
    assert crashed.handler is not None
    await crashed.handler.handle(held)
    await sub.unsubscribe()
    follower = intent("tenant-a")
    await bus.publish(follower)
    await start_router()  # waits for the held intent to come back first
    orders = await bus.orders(2, timeout_s=30)
    assert [o.intent_id for o in orders] == [sent.intent_id, follower.intent_id]
    counted = await redis_client.keys(f"{topology.namespace}:{{tenant-a}}:qo:*")
    assert [int(await redis_client.get(k) or 0) for k in counted] == [2]


async def _dead_lettered(js: JetStreamContext, topology: Topology, count: int) -> None:
    async def held() -> int:
        return (await js.stream_info(topology.deadletter_stream)).state.messages

    await eventually(held, until=lambda n: n == count, what=f"{count} dead-lettered message(s)")


async def _position(router: RouterRuntime, tenant: str, where: tuple[str, str]) -> Decimal | None:
    snapshot = await router.state.snapshot(tenant, "none", datetime.now(UTC))
    return snapshot.positions.get(where)


def _unavailable_retries() -> float:
    labels = {"component": "router", "kind": "unavailable"}
    return REGISTRY.get_sample_value("sparky_consumer_retries_total", labels) or 0.0


async def test_a_database_outage_longer_than_the_give_up_time_delays_the_order_never_drops_it(
    start_router: Starter, bus: Bus
) -> None:
    await bus.put_tenant(factories.tenant_record("tenant-a"))
    await bus.put_account(account("tenant-a"))
    with private_postgres() as postgres:
        await start_router(database_url=postgres.url)  # gives up after 1 s of trouble
        postgres.stop("fast")
        waits_before = _unavailable_retries()
        sent = intent("tenant-a")
        await bus.publish(sent)
        # Three times the give-up time with the database away (nothing to poll for: the
        # point is that nothing happens): waited for, not given up.
        await asyncio.sleep(3 * FAST.give_up_after_s)
        assert _unavailable_retries() > waits_before  # it was held and retried meanwhile
        assert await bus.rejections(0, timeout_s=0.3) == []
        postgres.start()
        (order,) = await bus.orders(1, timeout_s=30)
    assert order.intent_id == sent.intent_id
    assert await bus.rejections(0, timeout_s=0.5) == []


async def test_an_unreadable_intent_is_dead_lettered_and_the_tenant_continues(
    start_router: Starter, bus: Bus, js: JetStreamContext, topology: Topology
) -> None:
    await bus.put_tenant(factories.tenant_record("tenant-a"))
    await bus.put_account(account("tenant-a"))
    await start_router()
    await js.publish(
        topology.intent_subject("tenant-a"), b"{not json", stream=topology.intents_stream
    )
    follower = intent("tenant-a")
    await bus.publish(follower)
    (order,) = await bus.orders(1)
    assert order.intent_id == follower.intent_id
    await _dead_lettered(js, topology, 1)
    dead = await js.get_msg(topology.deadletter_stream, 1)
    assert dead.data == b"{not json"


async def test_fills_teach_the_router_the_position_so_a_buy_while_short_reverses(
    start_router: Starter, bus: Bus, js: JetStreamContext, topology: Topology
) -> None:
    await bus.put_tenant(factories.tenant_record("tenant-a"))
    await bus.put_account(futures("tenant-a"))
    router = await start_router()
    fill = OrderFilled(
        **factories.envelope("tenant-a"),
        intent_id=new_intent_id(),
        client_order_id=ClientOrderId("sp-earlier"),
        account_label="main",
        exchange_id="binance",
        symbol="BTC/USDT:USDT",
        side=Side.SELL,
        exchange_order_id="1",
        fills=(factories.fill(amount=Decimal("0.5")),),
    )
    subject = topology.event_subject("tenant-a", fill.kind)
    for _ in range(2):  # a duplicate delivery of the same event counts once
        await js.publish(subject, fill.to_json(), stream=topology.events_stream)
    await eventually(
        lambda: _position(router, "tenant-a", ("main", "BTC/USDT:USDT")),
        until=lambda held: held == Decimal("-0.5"),
        what="the router's projection short 0.5",
    )
    await bus.publish(intent("tenant-a", instrument=instrument("BINANCE:BTCUSDT.P")))
    close, open_ = await bus.orders(2)
    assert (close.side, close.reduce_only, open_.side, open_.reduce_only) == (
        Side.BUY,
        True,
        Side.BUY,
        False,
    )
    assert (close.client_order_id[-1], open_.client_order_id[-1]) == ("0", "1")


async def test_a_given_up_intent_is_told_what_the_orders_stream_holds_of_it(
    start_router: Starter,
    bus: Bus,
    js: JetStreamContext,
    topology: Topology,
    redis_client: aioredis.Redis,
) -> None:
    # A router crashed after storing one intent's order (its PubAck lost with it) and before
    # any trace of it was recorded; another intent never got that far. Both are given up.
    await bus.put_tenant(factories.tenant_record("tenant-a"))
    await bus.put_account(account("tenant-a"))
    router = await start_router(consume=False)
    assert router.handler is not None
    stored, lost = intent("tenant-a"), intent("tenant-a")
    await router.handler.route(stored)
    await redis_client.delete(f"{topology.namespace}:{{tenant-a}}:d:{stored.intent_id}")
    for sent in (stored, lost):
        await bus.publish(sent)
    durable = topology.consumer_name("router", topology.partition_of("tenant-a"))
    await js.add_consumer(
        topology.intents_stream,
        consumer_config(
            durable,
            topology.intents_filter(topology.partition_of("tenant-a")),
            ack_wait_s=FAST.ack_wait_s,
            max_deliver=FAST.max_deliver,
        ),
    )
    sub = await js.pull_subscribe_bind(durable, stream=topology.intents_stream)
    held = await sub.fetch(2, timeout=5)
    for msg in held:
        await router.handler.on_failure(msg, Outcome.MAX_DELIVERIES, None)
    await sub.unsubscribe()

    told = {r.intent_id: r.message for r in await bus.rejections(2)}
    assert "1 of its orders had been sent on already and are placed" in told[stored.intent_id]
    assert "no order was placed" not in told[stored.intent_id]
    assert "no order was placed" in told[lost.intent_id]
    (order,) = await bus.orders(1)
    assert order.intent_id == stored.intent_id


def _refused_for_tenant_mismatch() -> float:
    labels = {"outcome": "refused", "reason": "tenant_mismatch"}
    return REGISTRY.get_sample_value("sparky_router_decisions_total", labels) or 0.0


async def test_an_intent_claiming_another_tenant_than_its_subject_is_dead_lettered_undecided(
    start_router: Starter,
    bus: Bus,
    js: JetStreamContext,
    topology: Topology,
    redis_client: aioredis.Redis,
) -> None:
    for tenant in ("tenant-a", "tenant-b"):
        await bus.put_tenant(factories.tenant_record(tenant))
        await bus.put_account(account(tenant))
    refused_before = _refused_for_tenant_mismatch()
    await start_router()
    forged = intent("tenant-b")  # published on tenant A's subject, as a forger in A's pod would
    await js.publish(
        topology.intent_subject("tenant-a"),
        forged.to_json(),
        stream=topology.intents_stream,
        headers={"Nats-Msg-Id": forged.dedup_key},
    )
    follower = intent("tenant-a")
    await bus.publish(follower)

    (order,) = await bus.orders(1)  # the follower's only: no order for tenant B
    assert order.intent_id == follower.intent_id
    await _dead_lettered(js, topology, 1)
    dead = await js.get_msg(topology.deadletter_stream, 1)
    assert dead.data == forged.to_json()
    headers = dead.headers or {}
    assert headers["Sparky-Original-Subject"] == topology.intent_subject("tenant-a")
    assert headers["Sparky-Outcome"] == Outcome.POISON.value
    assert headers["Sparky-Error"].startswith("TenantMismatchError: an intent of tenant 'tenant-b'")
    assert await bus.rejections(0, timeout_s=0.3) == []  # in neither tenant's name
    assert await redis_client.keys(f"{topology.namespace}:{{tenant-b}}:*") == []  # not counted
    assert _refused_for_tenant_mismatch() == refused_before + 1

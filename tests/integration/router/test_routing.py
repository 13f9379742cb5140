"""Intents become orders or rejections on the real servers, once each, in each tenant's order."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from decimal import Decimal

import redis.asyncio as aioredis

from libs.common.messages import Action, RejectReason, Side, SizingRule
from libs.common.records import PlanLimits
from libs.common.topology import Topology
from tests import factories
from tests.helpers.router import Bus, account, instrument, intent
from tests.integration.router.harness import Starter


async def test_an_intent_becomes_an_order_that_chains_to_it(
    start_router: Starter, bus: Bus
) -> None:
    await bus.put_tenant(factories.tenant_record("tenant-a"))
    await bus.put_account(account("tenant-a"))
    await start_router()
    sent = intent("tenant-a")
    await bus.publish(sent)
    (order,) = await bus.orders(1)
    assert order.client_order_id == f"sp{sent.intent_id}0"
    assert len(order.client_order_id) == 29
    assert (order.correlation_id, order.causation_id) == (sent.intent_id, sent.message_id)
    assert (order.symbol, order.side, order.account_label) == ("BTC/USDT", Side.BUY, "main")
    assert order.sizing.rule is SizingRule.BASE
    assert order.sizing.value == Decimal("0.01")
    assert order.received_at == sent.received_at


async def test_the_order_carries_the_alerts_trace(start_router: Starter, bus: Bus) -> None:
    await bus.put_tenant(factories.tenant_record("tenant-a"))
    await bus.put_account(account("tenant-a"))
    await start_router()
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    await bus.publish(
        intent("tenant-a"), headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}
    )

    sub = await bus.js.pull_subscribe(
        f"{bus.topology.namespace}.orders.*.tenant-a", stream=bus.topology.orders_stream
    )
    (stored,) = await sub.fetch(1, timeout=20)
    assert (stored.headers or {}).get("traceparent", "").split("-")[1] == trace_id


async def test_a_refused_intent_tells_the_trader_why(start_router: Starter, bus: Bus) -> None:
    await bus.put_tenant(factories.tenant_record("tenant-a"))
    await start_router()
    sent = intent("tenant-a")
    await bus.publish(sent)
    (rejected,) = await bus.rejections(1)
    assert rejected.reason is RejectReason.UNKNOWN_ACCOUNT
    assert "no exchange account" in rejected.message
    assert (rejected.intent_id, rejected.correlation_id) == (sent.intent_id, sent.intent_id)


async def test_two_replicas_keep_each_tenants_order_over_1000_interleaved_intents(
    start_router: Starter, bus: Bus
) -> None:
    tenants = [f"t{i:02d}" for i in range(50)]
    for tenant in tenants:
        await bus.put_tenant(factories.tenant_record(tenant, limits=_unlimited()))
        await bus.put_account(account(tenant))
    first, second = await asyncio.gather(
        start_router(replica_index=0, replica_count=2),
        start_router(replica_index=1, replica_count=2),
    )
    assert set(first.partitions).isdisjoint(second.partitions)
    sent: dict[str, list[str]] = defaultdict(list)
    rng = random.Random(7)
    for n in range(1000):
        tenant = rng.choice(tenants)
        action = Action.BUY if n % 2 else Action.SELL  # spot sells too: one order each
        one = intent(tenant, action=action)
        sent[tenant].append(one.intent_id)
        await bus.publish(one)
    orders = await bus.orders(1000, timeout_s=60)
    assert len(orders) == 1000
    placed: dict[str, list[str]] = defaultdict(list)
    for order in orders:
        placed[order.tenant_id].append(order.intent_id)
    assert placed == sent


async def test_a_tenants_markets_are_routed_concurrently_each_in_its_own_order(
    start_router: Starter, bus: Bus
) -> None:
    # A hot tenant (a fund trading several markets) is not one queue: its markets are
    # decided concurrently, and each market's orders keep the order of their alerts.
    await bus.put_tenant(factories.tenant_record("fund", limits=_unlimited()))
    await bus.put_account(account("fund"))
    await start_router()
    markets = ["BINANCE:BTCUSDT", "BINANCE:ETHUSDT", "BTC/USDT", "BINANCE:SOLUSDT"]
    sent: dict[str, list[str]] = defaultdict(list)
    for n in range(200):
        one = intent("fund", instrument=instrument(markets[n % 4]))
        sent[one.ordering_key].append(one.intent_id)
        await bus.publish(one)
    assert set(sent) == {"BTCUSDT", "ETHUSDT", "SOLUSDT"}  # two spellings, one market
    orders = await bus.orders(200, timeout_s=60)
    placed: dict[str, list[str]] = defaultdict(list)
    for order in orders:
        placed[order.symbol.replace("/", "")].append(order.intent_id)
    assert placed == sent


async def test_a_redelivered_intent_yields_no_second_order(
    start_router: Starter, bus: Bus, redis_client: aioredis.Redis, topology: Topology
) -> None:
    await bus.put_tenant(factories.tenant_record("tenant-a"))
    await bus.put_account(account("tenant-a"))
    await start_router()
    sent = intent("tenant-a")
    await bus.publish(sent)
    await bus.orders(1)
    await bus.publish(sent, msg_id="resent-after-the-dedup-window")  # the same intent again
    # Each copy republishes the kept decision, which JetStream drops as a duplicate.
    await bus.publish(sent, msg_id="resent-once-more")
    follower = intent("tenant-a")
    await bus.publish(follower)
    orders = await bus.orders(2)
    assert [o.intent_id for o in orders] == [sent.intent_id, follower.intent_id]
    counted = await redis_client.keys(f"{topology.namespace}:{{tenant-a}}:qo:*")
    assert [int(await redis_client.get(k) or 0) for k in counted] == [2]


async def test_quota_counts_stay_exact_with_two_processes_on_one_partition(
    start_router: Starter, bus: Bus
) -> None:
    no_alert_limit = factories.plan_limits(max_alerts_per_hour=None)  # 20 orders a day
    await bus.put_tenant(factories.tenant_record("tenant-a", limits=no_alert_limit))
    await bus.put_account(account("tenant-a"))
    # Both consume the same durable consumer, as during an overlapping rolling update.
    await asyncio.gather(start_router(), start_router())
    for _ in range(30):
        await bus.publish(intent("tenant-a"))
    orders = await bus.orders(20, timeout_s=30)
    rejections = await bus.rejections(10, timeout_s=30)
    assert len(orders) == 20
    assert len(rejections) == 10
    assert {r.reason for r in rejections} == {RejectReason.QUOTA_EXCEEDED}


def _unlimited() -> PlanLimits:
    return factories.plan_limits(max_alerts_per_hour=None, max_orders_per_day=None)

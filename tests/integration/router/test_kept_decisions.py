"""Decisions kept in the quota commit: published as decided after a crash, exact under
concurrency, two Redis round trips per intent. Real NATS, Redis and Postgres."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest
import redis.asyncio as aioredis
from redis.asyncio.connection import Connection

from libs.common.errors import UnavailableError
from libs.common.messages import RejectReason
from libs.common.records import TenantStatus
from libs.common.signing import CommandSigner, Issuer
from libs.common.topology import Topology
from services.router.domain.kept import Kept
from services.router.handlers.intents import IntentHandler
from services.router.publisher import Publisher
from services.router.runtime import RouterRuntime
from services.router.store.accounts import AccountDirectory
from services.router.store.redis_state import RouterState
from tests import factories
from tests.helpers.router import Bus, account, instrument, intent
from tests.helpers.servers import ServerUrls
from tests.integration.router.harness import Starter

SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT", "BNBUSDT", "LTCUSDT", "DOTUSDT")


async def _counted(redis_client: aioredis.Redis, topology: Topology, window: str) -> list[int]:
    keys = await redis_client.keys(f"{topology.namespace}:{{tenant-a}}:{window}:*")
    return [int(await redis_client.get(key) or 0) for key in keys]


async def test_a_decision_kept_before_a_crash_is_published_as_decided_on_redelivery(
    start_router: Starter, bus: Bus, redis_client: aioredis.Redis, topology: Topology
) -> None:
    await bus.put_tenant(factories.tenant_record("tenant-a"))
    await bus.put_account(account("tenant-a"))
    crashed = await start_router(consume=False)
    assert crashed.handler is not None
    sent = intent("tenant-a")
    await crashed.broker.stop()  # NATS is gone for this process: it commits, then cannot publish
    with pytest.raises(UnavailableError):
        await crashed.handler.route(sent)
    raw = await redis_client.get(f"{topology.namespace}:{{tenant-a}}:d:{sent.intent_id}")
    assert raw is not None
    kept = Kept.decode(raw)
    # Meanwhile the tenant is suspended: deciding again would refuse the intent.
    suspended = factories.tenant_record("tenant-a", status=TenantStatus.SUSPENDED)
    await bus.put_tenant(suspended)
    await start_router()
    await bus.publish(sent)  # the intent comes back

    (order,) = await bus.orders(1)
    assert (order.intent_id, order.client_order_id) == (sent.intent_id, f"sp{sent.intent_id}0")
    assert (order.message_id, order.occurred_at) == (kept.ids[0], kept.at)  # as it was kept
    assert await bus.rejections(0, timeout_s=0.5) == []
    assert await _counted(redis_client, topology, "qa") == [1]
    assert await _counted(redis_client, topology, "qo") == [1]


async def test_concurrent_intents_of_one_tenant_on_different_symbols_take_exactly_the_limit(
    start_router: Starter, bus: Bus, redis_client: aioredis.Redis, topology: Topology
) -> None:
    limits = factories.plan_limits(max_alerts_per_hour=None, max_orders_per_day=5)
    await bus.put_tenant(factories.tenant_record("tenant-a", limits=limits))
    await bus.put_account(account("tenant-a"))
    router = await start_router(consume=False)
    assert router.handler is not None
    sent = [intent("tenant-a", instrument=instrument(f"BINANCE:{s}")) for s in SYMBOLS * 2]
    # Every decision reads the usage before any commits: all see room for their order.
    await asyncio.gather(*(router.handler.route(one) for one in sent))

    orders = await bus.orders(5)
    rejections = await bus.rejections(len(sent) - 5)
    assert len(orders) == 5
    assert len(rejections) == len(sent) - 5
    assert {r.reason for r in rejections} == {RejectReason.QUOTA_EXCEEDED}
    assert await _counted(redis_client, topology, "qo") == [5]
    # Delivered again, each intent gets what it got the first time.
    await asyncio.gather(*(router.handler.route(one) for one in sent))
    assert len(await bus.orders(5)) == 5
    assert len(await bus.rejections(len(sent) - 5)) == len(sent) - 5


class _CountingConnection(Connection):
    """A real connection that counts what it sends: one write per round trip."""

    sent: ClassVar[list[int]] = [0]

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:  # noqa: FBT001, FBT002 - redis-py's signature
        _CountingConnection.sent[0] += 1
        await super().send_packed_command(command, check_health=check_health)


def _counting_handler(router: RouterRuntime, redis: aioredis.Redis) -> IntentHandler:
    assert router.cache is not None
    assert router.mirrors is not None
    return IntentHandler(
        state=RouterState(redis, router.settings.key_prefix),
        cache=router.cache,
        tenants=router.mirrors.tenants,
        accounts=AccountDirectory(router.mirrors.accounts),
        publisher=Publisher(
            router.broker,
            router.topology,
            CommandSigner(Issuer.ROUTER, router.settings.order_signing_key),
        ),
    )


async def test_an_intent_costs_two_redis_round_trips_and_a_redelivery_one(
    start_router: Starter, bus: Bus, server_urls: ServerUrls
) -> None:
    await bus.put_tenant(
        factories.tenant_record(
            "tenant-a",
            limits=factories.plan_limits(max_alerts_per_hour=None, max_orders_per_day=None),
        )
    )
    await bus.put_account(account("tenant-a"))
    router = await start_router(consume=False)
    pool = aioredis.ConnectionPool.from_url(server_urls.redis, connection_class=_CountingConnection)
    async with aioredis.Redis(connection_pool=pool) as redis:
        handler = _counting_handler(router, redis)
        await handler.route(intent("tenant-a"))  # loads the scripts and the settings
        placed = [intent("tenant-a") for _ in range(10)]
        refused = [intent("tenant-a", account="nope") for _ in range(10)]
        before = _CountingConnection.sent[0]
        for one in placed + refused:
            await handler.route(one)
        assert _CountingConnection.sent[0] - before == 2 * 20
        before = _CountingConnection.sent[0]
        for one in placed + refused:
            await handler.route(one)  # redelivered: the read finds the kept decision
        assert _CountingConnection.sent[0] - before == 20
    assert len(await bus.orders(11)) == 11


async def test_an_intent_the_previous_router_design_published_is_not_decided_again(
    start_router: Starter, bus: Bus, redis_client: aioredis.Redis, topology: Topology
) -> None:
    # During an upgrade: a router of the previous design published the intent and recorded
    # "placed:1" (no decision kept); the ack was lost and a new router gets it.
    await bus.put_tenant(factories.tenant_record("tenant-a"))
    await bus.put_account(account("tenant-a"))
    router = await start_router(consume=False)
    assert router.handler is not None
    sent = intent("tenant-a")
    await redis_client.set(f"{topology.namespace}:{{tenant-a}}:d:{sent.intent_id}", "placed:1")

    await router.handler.route(sent)

    assert await bus.orders(0, timeout_s=0.5) == []
    assert await bus.rejections(0, timeout_s=0.5) == []
    assert await _counted(redis_client, topology, "qa") == []

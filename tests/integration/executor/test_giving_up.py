"""When retrying in place runs out: the failure is reported, never guessed."""

from __future__ import annotations

import asyncio
import contextlib
import time

import httpx
import pytest
from asgi_lifespan import LifespanManager
from nats.js import JetStreamContext
from prometheus_client import REGISTRY

from libs.common.messages import OrderFailed, OrderUncertain
from libs.common.topology import Topology
from services.executor.app import create_app
from services.executor.config import ExecutorSettings
from services.executor.runtime import Runtime
from tests.helpers.executor import (
    VaultIdentities,
    kinds,
    make_settings,
    market_order,
    publish_order,
    setup_approles,
    stored_events,
    wait_for_events,
)
from tests.helpers.namespaces import PgSchema
from tests.helpers.paper import PaperExchangeProcess
from tests.helpers.polling import eventually
from tests.helpers.servers import ServerUrls
from tests.helpers.vault import vault_dev_server
from tests.integration.executor.orders import exchange_orders, paper_tenant

T = "tenant-gives-up"
TTL_S = 5.0


@pytest.fixture
def settings(
    server_urls: ServerUrls,
    namespace: str,
    pg_schema: PgSchema,
    vault_identities: VaultIdentities,
    paper: PaperExchangeProcess,
) -> ExecutorSettings:
    return make_settings(
        server_urls, namespace, pg_schema, vault_identities, paper.base_url, retry_give_up_s=2.0
    )


async def state_of(runtime: Runtime, client_order_id: str) -> str | None:
    record = await runtime.orders.get(client_order_id)
    return record.state.value if record is not None else None


async def test_an_exchange_that_never_confirms_fails_the_order_after_a_look_up(
    http: httpx.AsyncClient,
    js: JetStreamContext,
    topology: Topology,
    paper: PaperExchangeProcess,
    runtime: Runtime,
) -> None:
    account = await paper_tenant(http, js, topology, paper, T)
    await paper.add_fault("error", account_id=account.account_id, method="POST", status=503)
    command = market_order(T)
    await publish_order(js, topology, command)
    events = await wait_for_events(js, topology, T, lambda es: "order.failed" in kinds(es))
    # Uncertain first when a late arrival was still possible at the give-up; failed, final,
    # once it no longer is.
    assert kinds(events) in (["order.failed"], ["order.uncertain", "order.failed"])
    failed = events[-1]
    assert isinstance(failed, OrderFailed)
    assert failed.reason.startswith("Gave up after retrying: the exchange did not confirm")
    assert await exchange_orders(paper, account, "BTC/USDT") == []
    await eventually(  # once no late creation can arrive, the record says so
        lambda: state_of(runtime, command.client_order_id),
        until=lambda state: state == "failed",
        what="the order recorded failed",
        timeout_s=20,
        interval_s=0.2,
    )
    assert kinds(await stored_events(js, topology, T)) == kinds(events)


async def test_an_order_the_exchange_took_while_unreachable_is_reported_when_it_reappears(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    account = await paper_tenant(http, js, topology, paper, T)
    scope = {"account_id": account.account_id}
    await paper.add_fault("accept_then_error", method="POST", status=502, count=1, **scope)
    await paper.add_fault("error", method="GET", status=503, **scope)
    command = market_order(T)
    await publish_order(js, topology, command)
    (uncertain,) = await wait_for_events(js, topology, T, bool)
    assert isinstance(uncertain, OrderUncertain)  # not a failure: it may still appear
    assert "not known yet" in uncertain.reason
    await paper.clear_faults()
    events = await wait_for_events(js, topology, T, lambda es: "order.filled" in kinds(es))
    assert kinds(events) == ["order.uncertain", "order.submitted", "order.filled"]
    orders = await exchange_orders(paper, account, "BTC/USDT")
    assert [o["clientOrderId"] for o in orders] == [command.client_order_id]


async def test_with_vault_down_cached_keys_serve_until_the_ttl_then_orders_wait_for_it(
    *,
    server_urls: ServerUrls,
    namespace: str,
    pg_schema: PgSchema,
    js: JetStreamContext,
    topology: Topology,
    paper: PaperExchangeProcess,
) -> None:
    with contextlib.ExitStack() as vault_running:
        private = vault_running.enter_context(vault_dev_server())
        identities = setup_approles(private.url, private.root_token, suffix="private")
        settings = make_settings(
            server_urls,
            namespace,
            pg_schema,
            identities,
            paper.base_url,
            retry_give_up_s=1.0,
            credentials_ttl_s=TTL_S,
        )
        app = create_app(settings)
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://x") as http:
                account = await paper_tenant(http, js, topology, paper, T)
            first, second, third = market_order(T), market_order(T), market_order(T)
            await publish_order(js, topology, first)
            await wait_for_events(js, topology, T, lambda es: "order.filled" in kinds(es))
            loaded = time.monotonic()

            vault_running.close()  # Vault goes away
            await publish_order(js, topology, second)
            await wait_for_events(js, topology, T, lambda es: kinds(es).count("order.filled") == 2)
            assert time.monotonic() - loaded < TTL_S, "too slow to test the cache within its TTL"

            # Waited out for real: the TTL is what the test is about, and the app's credentials
            # cache takes no clock from create_app.
            await asyncio.sleep(TTL_S - (time.monotonic() - loaded) + 0.5)
            waits_before = _unavailable_retries()
            await publish_order(js, topology, third)
            # Past the TTL no key is served (fail closed), and Vault being away is waited
            # for, never a reason to give up: three times the give-up time, and nothing.
            await asyncio.sleep(3 * settings.retry_give_up_s)
            assert _unavailable_retries() > waits_before
            events = await stored_events(js, topology, T)
    assert kinds(events) == ["order.submitted", "order.filled"] * 2
    placed = [o["clientOrderId"] for o in await exchange_orders(paper, account, "BTC/USDT")]
    assert sorted(placed) == sorted([first.client_order_id, second.client_order_id])


def _unavailable_retries() -> float:
    labels = {"component": "executor", "kind": "unavailable"}
    return REGISTRY.get_sample_value("sparky_consumer_retries_total", labels) or 0.0

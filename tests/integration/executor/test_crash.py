"""The executor SIGKILLed right after the exchange accepted an order: no second order."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.js import JetStreamContext

from libs.common.messages import Event
from libs.common.topology import Topology
from scripts.devstack import ServiceProcess
from tests.helpers.executor import (
    VaultIdentities,
    kinds,
    market_order,
    publish_order,
    seed_tenant,
    stored_events,
    vault_settings,
    wait_for_events,
)
from tests.helpers.namespaces import PgSchema
from tests.helpers.paper import PaperExchangeProcess
from tests.helpers.polling import eventually
from tests.helpers.servers import ServerUrls
from tests.helpers.signing import verify_key_settings
from tests.helpers.stack import one_service
from tests.integration.executor.orders import exchange_orders

T = "tenant-crash"


@pytest.fixture
def executor_process(
    *,
    server_urls: ServerUrls,
    namespace: str,
    pg_schema: PgSchema,
    vault_identities: VaultIdentities,
    paper: PaperExchangeProcess,
    js: JetStreamContext,
    tmp_path: Path,
) -> Iterator[ServiceProcess]:
    settings: dict[str, Any] = {
        "role": "all",  # the test adds its account through this process's API
        "database_schema": pg_schema.name,
        "paper_exchange_url": paper.base_url,
        "consumer_ack_wait_s": 3,
        "exchange_timeout_ms": 60_000,  # the first process waits on the held answer
        "tracker_interval_s": 0.2,
        **vault_settings(vault_identities),
        **verify_key_settings(),
    }
    process = one_service("executor", tmp_path, settings, namespace=namespace, urls=server_urls)
    yield process
    process.stop()


async def until_exchange_has_an_order(paper: PaperExchangeProcess, account: Any) -> None:
    await eventually(
        lambda: exchange_orders(paper, account, "BTC/USDT"),
        what="an order at the exchange",
        timeout_s=30,
    )


async def test_killed_after_the_exchange_accepted_the_restarted_executor_reports_it_once(
    executor_process: ServiceProcess,
    js: JetStreamContext,
    topology: Topology,
    paper: PaperExchangeProcess,
) -> None:
    executor_process.start()
    await asyncio.to_thread(executor_process.wait_ready)
    account = await paper.create_account({"USDT": "10000"})
    body = {"label": "main", "exchange_id": "binance", "mode": "paper"}
    body |= {"api_key": account.api_key, "secret": account.secret}
    async with httpx.AsyncClient(base_url=executor_process.url, timeout=30) as http:
        key = await seed_tenant(js, topology, T, api=http)
        added = await http.post(
            "/api/v1/exchange-accounts", json=body, headers={"Authorization": f"Bearer {key}"}
        )
    assert added.status_code == 201, added.text
    await paper.add_fault(
        "accept_then_timeout",
        account_id=account.account_id,
        method="POST",
        path="/api/v3/order",
        count=1,
        delay_ms=20_000,  # longer than the first process lives; short for the paper shutdown
    )
    command = market_order(T)
    await publish_order(js, topology, command)
    await until_exchange_has_an_order(paper, account)
    executor_process.kill()  # the exchange has the order; the executor never heard back
    assert await stored_events(js, topology, T) == []

    executor_process.start()
    await asyncio.to_thread(executor_process.wait_ready)
    events = await wait_for_events(
        js, topology, T, lambda es: "order.filled" in kinds(es), timeout_s=60
    )
    assert kinds(events) == ["order.submitted", "order.filled"]
    orders = await exchange_orders(paper, account, "BTC/USDT")
    assert [o["clientOrderId"] for o in orders] == [command.client_order_id]
    # The restarted process says so: the evidence exactly-once held, logged and counted.
    async with httpx.AsyncClient(base_url=executor_process.url, timeout=30) as http:
        metrics = (await http.get("/metrics")).text
    assert 'sparky_executor_lookups_total{outcome="found",via="redelivery"} 1.0' in metrics
    log = executor_process.log()
    (found,) = [json.loads(line) for line in log.splitlines() if "found on the exchange" in line]
    assert found["level"] == "WARNING"
    assert (found["tenant_id"], found["client_order_id"]) == (T, command.client_order_id)
    assert found["intent_id"] == command.intent_id
    assert account.api_key not in log
    assert account.secret not in log


async def test_killed_between_the_entry_fill_and_its_protection_both_exist_once_after_restart(
    executor_process: ServiceProcess,
    js: JetStreamContext,
    topology: Topology,
    paper: PaperExchangeProcess,
) -> None:
    executor_process.start()
    await asyncio.to_thread(executor_process.wait_ready)
    account = await paper.create_account({}, futures_wallet="10000")
    body = {"label": "perps", "exchange_id": "binance", "mode": "paper", "market_type": "futures"}
    body |= {"api_key": account.api_key, "secret": account.secret}
    async with httpx.AsyncClient(base_url=executor_process.url, timeout=30) as http:
        key = await seed_tenant(js, topology, T, api=http)
        added = await http.post(
            "/api/v1/exchange-accounts", json=body, headers={"Authorization": f"Bearer {key}"}
        )
    assert added.status_code == 201, added.text
    await paper.set_prices({"BTCUSDT": "60000"})
    # The take-profit reaches the exchange; its answer never reaches the executor.
    await paper.add_fault(
        "accept_then_timeout",
        account_id=account.account_id,
        method="POST",
        path="/fapi/v1/algoOrder",
        count=1,
        delay_ms=20_000,
    )
    entry = market_order(
        T,
        account_label="perps",
        symbol=PERP,
        sizing={"rule": "base", "value": "0.002"},
        take_profit={"value": "2", "unit": "percent"},
        stop_loss={"value": "1", "unit": "percent"},
    )
    await publish_order(js, topology, entry)
    await wait_for_events(js, topology, T, lambda es: "order.filled" in kinds(es))
    await eventually(
        lambda: open_algo_orders(paper, account), what="a protective order open", timeout_s=30
    )
    executor_process.kill()  # the entry filled, one protective order in flight, none recorded

    executor_process.start()
    await asyncio.to_thread(executor_process.wait_ready)

    def protected(es: Sequence[Event]) -> bool:
        return kinds(es).count("order.submitted") == 3

    await wait_for_events(js, topology, T, protected, timeout_s=60)
    found = sorted(o["clientOrderId"] for o in await open_algo_orders(paper, account))
    await paper.clear_prices()
    assert found == [entry.client_order_id + "s", entry.client_order_id + "t"]


PERP = "BTC/USDT:USDT"


async def open_algo_orders(paper: PaperExchangeProcess, account: Any) -> list[Any]:
    client = paper.futures_client(account)
    try:
        orders: list[Any] = await client.fetch_open_orders(PERP, params={"trigger": True})
    finally:
        await client.close()
    return orders

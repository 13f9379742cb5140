"""A process killed in the middle of a burst loses no accepted alert and places none twice.

The whole stack runs as processes; 20 traders send 2,000 market orders at once (100 each),
and in the middle of it the router, then the executor, then the ledger is SIGKILLed and
started again with the same command. After each burst the paper exchange's own order book
must hold exactly one order per accepted alert, under the client order id of its intent, and
the ledger exactly the exchange's fills and their net position.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from scripts.devstack import Stack
from tests.helpers import burst, pipeline
from tests.helpers.burst import Answer, Burst, PlannedAlert
from tests.helpers.pipeline import Trader
from tests.helpers.servers import ServerUrls
from tests.helpers.stack import running_stack
from tests.helpers.vault import VaultServer

TRADERS = 20
ALERTS_EACH = 100
KILLED = ("router", "executor", "ledger")


async def provision_traders(client: httpx.AsyncClient, stack: Stack, count: int) -> list[Trader]:
    """Make ``count`` traders with unlimited plans, a few at a time."""
    slots = asyncio.Semaphore(4)

    async def one(i: int) -> Trader:
        async with slots:
            return await pipeline.provision(client, stack.cfg, f"crash-{i:02d}")

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def burst_with_kill(
    client: httpx.AsyncClient, stack: Stack, alerts: list[PlannedAlert], service: str
) -> list[Answer]:
    """Send ``alerts``; once a third are answered, SIGKILL ``service`` and start it again."""
    sender = Burst(client, alerts, concurrency=32)
    sending = asyncio.create_task(sender.run())
    await asyncio.wait_for(sender.wait_answered(len(alerts) // 3), 300)
    proc = stack[service]
    await asyncio.to_thread(proc.kill)
    assert not sending.done(), f"the burst was over before {service} was killed"
    await asyncio.to_thread(proc.start)
    await asyncio.to_thread(proc.wait_ready, 120.0)
    return await sending


@pytest.mark.timeout(1200)
async def test_every_accepted_alert_is_placed_once_when_router_executor_and_ledger_crash(
    server_urls: ServerUrls, vault: VaultServer, namespace: str, tmp_path: Path
) -> None:
    async with (
        running_stack(server_urls, vault, namespace, tmp_path) as stack,
        httpx.AsyncClient(timeout=30) as client,
    ):
        traders = await provision_traders(client, stack, TRADERS)
        answers = await Burst(client, burst.seeds(traders)).run()
        for rank, service in enumerate(KILLED):
            alerts = burst.plan(traders, ALERTS_EACH, first=rank * ALERTS_EACH)
            sent = await burst_with_kill(client, stack, alerts, service)
            refused = [a.describe() for a in sent if not a.accepted]
            assert refused == [], f"ingress refused alerts while {service} was down"
            answers += sent
            books = await burst.wait_settled(client, stack.cfg, traders)
            report = burst.accounting_report(answers, books, traders)
            assert report == "", f"after {service} was killed in a burst:\n{report}"

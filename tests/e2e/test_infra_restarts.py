"""NATS and Postgres restarting under a burst: 503 while an alert cannot be stored, none lost.

The stack runs on a NATS server and a Postgres cluster of this test's own (the shared ones are
never touched; Redis and the Vault API stay the shared ones). In the middle of a paced burst
NATS is stopped for a few seconds and started again on the same port and store, then Postgres
is crashed (immediate shutdown) and kept away five times longer than the router and the
executor retry before giving up on a message. While NATS is away, ingress must answer 503
(never another 5xx); the sender resends like TradingView. The services must reconnect by
themselves, the outage must delay orders and never turn them into failures, and in the end
every accepted alert is exactly one order at the paper exchange and the ledger holds exactly
the exchange's fills.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from scripts.devstack import Stack, StackConfig
from tests.helpers import burst, pipeline
from tests.helpers.burst import Burst
from tests.helpers.pipeline import Trader
from tests.helpers.polling import eventually
from tests.helpers.ports import PrivateNats
from tests.helpers.private_postgres import PrivatePostgres, private_postgres
from tests.helpers.servers import ServerUrls
from tests.helpers.stack import running_stack
from tests.helpers.vault import VaultServer

TRADERS = 10
ALERTS_EACH = 100
RATE_PER_S = 100.0
NATS_DOWN_S = 5.0
GIVE_UP_S = 3.0  # the router's and the executor's; waiting for a server does not count
POSTGRES_DOWN_S = 5 * GIVE_UP_S
GIVING_UP_FAST = {
    "router": {"GIVE_UP_AFTER_S": str(GIVE_UP_S)},
    "executor": {"RETRY_GIVE_UP_S": str(GIVE_UP_S)},
}
ANSWERS = {200, 202, 503}  # stored, stored before, not stored


@contextmanager
def private_nats(store: Path) -> Iterator[PrivateNats]:
    """A nats-server of the test's own, stopped afterwards."""
    server = PrivateNats(store)
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def nats_outage(server: PrivateNats) -> None:
    """Stop NATS, keep it away for a few seconds, start it again on the same store."""
    await asyncio.to_thread(server.stop)
    await asyncio.sleep(NATS_DOWN_S)
    await asyncio.to_thread(server.start)


async def postgres_crash(server: PrivatePostgres) -> None:
    """Crash Postgres (immediate shutdown, recovery at start), start it again."""
    await asyncio.to_thread(server.stop, "immediate")
    await asyncio.sleep(POSTGRES_DOWN_S)
    await asyncio.to_thread(server.start)


async def provision_traders(
    client: httpx.AsyncClient, cfg: StackConfig, count: int
) -> list[Trader]:
    """Make ``count`` traders with unlimited plans."""
    return [await pipeline.provision(client, cfg, f"infra-{i:02d}") for i in range(count)]


async def all_ready(client: httpx.AsyncClient, stack: Stack) -> bool:
    """Whether every service says it is ready (its broker, database and Vault reachable)."""
    for proc in stack.processes.values():
        resp = await client.get(f"{proc.url}/readyz")
        if resp.status_code != 200:
            return False
    return True


@pytest.mark.timeout(900)
async def test_alerts_are_refused_with_503_while_nats_is_down_and_none_accepted_is_lost(
    server_urls: ServerUrls, vault: VaultServer, namespace: str, tmp_path: Path
) -> None:
    with (
        private_nats(tmp_path / "nats") as nats_server,
        private_postgres() as postgres,
    ):
        urls = ServerUrls(nats=nats_server.url, redis=server_urls.redis, postgres=postgres.url)
        async with (
            running_stack(
                urls,
                vault,
                namespace,
                tmp_path / "stack",
                extra_env=GIVING_UP_FAST,
                nats_users=False,  # this NATS is the test's own, to stop and start
            ) as stack,
            # Keep-alive shorter than uvicorn's 5 s: with both at 5 s, a connection idle through
            # the outage (resends are 5 s apart) can be reused just as the server closes it, a
            # transport error that says nothing about Sparky (seen once in CI-like runs).
            httpx.AsyncClient(timeout=30, limits=httpx.Limits(keepalive_expiry=2.0)) as client,
        ):
            traders = await provision_traders(client, stack.cfg, TRADERS)
            seeded = await Burst(client, burst.seeds(traders)).run()  # placed first: in order
            alerts = burst.plan(traders, ALERTS_EACH)
            sender = Burst(client, alerts, concurrency=16, rate_per_s=RATE_PER_S)
            sending = asyncio.create_task(sender.run())
            await asyncio.wait_for(sender.wait_answered(len(alerts) // 5), 300)
            await nats_outage(nats_server)
            await asyncio.wait_for(sender.wait_answered(len(alerts) * 3 // 5), 300)
            assert not sending.done(), "the burst was over before Postgres was crashed"
            await postgres_crash(postgres)
            answers = seeded + await sending

            statuses = burst.status_counts(answers)
            assert set(statuses) <= ANSWERS, f"answers other than 200/202/503: {statuses}"
            assert statuses[503] > 0, f"no 503 while NATS was down: {statuses}"
            unaccepted = [a.describe() for a in answers if not a.accepted]
            assert unaccepted == [], "alerts never stored, though resent for 40 s"
            books = await burst.wait_settled(client, stack.cfg, traders)
            report = burst.accounting_report(answers, books, traders)
            assert report == "", f"after NATS and Postgres restarts:\n{report}"
            await eventually(
                lambda: all_ready(client, stack), what="every service ready again", timeout_s=60
            )

"""Executor throughput and webhook-to-exchange latency, at a fixed rate across many tenants.

``python -m benchmarks.bench_executor [--rate 200] [--tenants 1000] [--seconds 20]``

One executor process (``python -m services.executor``) and one paper exchange process; an
OpenBao dev server for the keys; NATS and Postgres from ``SPARKY_NATS_URL`` and
``SPARKY_DATABASE_URL`` (local defaults). Every tenant gets its own paper account, added
through the executor's API. `PlaceOrder` messages (market buys) are published to ORDERS at a
fixed rate, each stamped ``received_at`` = its publish time, as if a webhook had just arrived.

Two phases: *cold* (each tenant's first order: Vault read, new ccxt client) and *warm*
(steady state). Latency "webhook → exchange" is ``OrderSubmitted.submitted_at - received_at``
(the exchange has accepted the order); "→ fill event" is when the bench received the
``OrderFilled`` event. Throughput is orders finished per second while publishing at the rate.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import nats
import psutil
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from libs.common.jetstream import delete_topology, ensure_topology
from libs.common.topology import Topology
from tests.helpers.executor import (
    market_order,
    publish_order,
    seed_tenant,
    setup_approles,
    vault_settings,
)
from tests.helpers.paper import PaperExchangeProcess, paper_exchange
from tests.helpers.signing import verify_key_settings
from tests.helpers.stack import one_service
from tests.helpers.vault import vault_dev_server

NATS_URL = os.environ.get("SPARKY_NATS_URL", "nats://127.0.0.1:4222")
DATABASE_URL = os.environ.get("SPARKY_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass
class Phase:
    """What one phase published and what came back."""

    name: str
    sent: dict[str, datetime] = field(default_factory=dict)  # client order id -> received_at
    to_exchange: dict[str, float] = field(default_factory=dict)
    to_fill_event: dict[str, float] = field(default_factory=dict)
    first_sent: float = 0.0
    last_done: float = 0.0
    cpu_s: dict[str, float] = field(default_factory=dict)  # process -> CPU seconds used


class CpuMeter:
    """CPU time (user + system) of the measured processes, to divide by the orders done."""

    def __init__(self, pids: dict[str, int | None]) -> None:
        self._processes = {name: psutil.Process(pid) for name, pid in pids.items() if pid}

    def read(self) -> dict[str, float]:
        return {
            name: (times := process.cpu_times()).user + times.system
            for name, process in self._processes.items()
        }


class Collector:
    """Match OrderSubmitted / OrderFilled events to the orders sent."""

    def __init__(self) -> None:
        self.phase: Phase | None = None

    async def on_event(self, msg: Msg) -> None:
        # Plain JSON, not the models: the bench shares the CPU with what it measures.
        phase, event = self.phase, json.loads(msg.data)
        received_at = phase.sent.get(event["client_order_id"]) if phase else None
        if phase is None or received_at is None:
            return
        if event["kind"] == "order.submitted":
            submitted = datetime.fromisoformat(event["submitted_at"])
            phase.to_exchange[event["client_order_id"]] = (submitted - received_at).total_seconds()
        else:
            seconds = (datetime.now(UTC) - received_at).total_seconds()
            phase.to_fill_event.setdefault(event["client_order_id"], seconds)
            phase.last_done = time.perf_counter()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def add_tenants(
    js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess, api: str, n: int
) -> list[str]:
    """Create ``n`` tenants, each with a paper account added to the executor as ``main``."""
    tenants = [f"bench{i:05d}" for i in range(n)]
    gate = asyncio.Semaphore(16)

    async def one(http: httpx.AsyncClient, tenant: str) -> None:
        async with gate:
            key = await seed_tenant(js, topology, tenant, max_exchange_accounts=None)
            account = await paper.create_account({"USDT": "1000000"})
            body = {"label": "main", "exchange_id": "binance", "mode": "paper", "validate": False}
            body |= {"api_key": account.api_key, "secret": account.secret}
            headers = {"Authorization": f"Bearer {key}"}
            retried = False
            for _ in range(100):  # the executor's copy of the api-keys bucket may lag a little
                try:
                    response = await http.post(
                        "/api/v1/exchange-accounts", json=body, headers=headers
                    )
                except httpx.TransportError:  # an idle keep-alive connection closed under us
                    retried = True
                    continue
                if response.status_code != httpx.codes.UNAUTHORIZED:
                    break
                await asyncio.sleep(0.1)
            if not (retried and response.status_code == httpx.codes.CONFLICT):  # added already
                response.raise_for_status()

    async with httpx.AsyncClient(base_url=api, timeout=60) as http:
        await asyncio.gather(*(one(http, t) for t in tenants))
    return tenants


async def run_phase(
    js: JetStreamContext,
    topology: Topology,
    collector: Collector,
    phase: Phase,
    tenants: list[str],
    *,
    rate: float,
    count: int,
    meter: CpuMeter,
) -> None:
    """Publish ``count`` orders at ``rate`` per second, round-robin over the tenants."""
    collector.phase = phase
    cpu_before = meter.read()
    start = time.perf_counter()
    phase.first_sent = start
    pending: set[asyncio.Task[object]] = set()
    for i in range(count):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        received = datetime.now(UTC)
        command = market_order(tenants[i % len(tenants)], received_at=received)
        phase.sent[command.client_order_id] = received
        task = asyncio.create_task(publish_order(js, topology, command))
        pending.add(task)
        task.add_done_callback(pending.discard)
    deadline = time.perf_counter() + 120
    while len(phase.to_fill_event) < count and time.perf_counter() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.2)
    phase.cpu_s = {name: s - cpu_before[name] for name, s in meter.read().items()}


def report(phase: Phase, rate: float) -> None:
    done = len(phase.to_fill_event)
    elapsed = max(phase.last_done - phase.first_sent, 1e-9)
    exchange, fill = list(phase.to_exchange.values()), list(phase.to_fill_event.values())
    print(
        f"{phase.name:<5} offered {rate:>5.0f}/s  sent {len(phase.sent):>5}  filled {done:>5}  "
        f"throughput {done / elapsed:>6.1f}/s"
    )
    if exchange and fill:
        print(
            f"      webhook->exchange p50 {pct(exchange, 0.5):7.1f} ms  "
            f"p99 {pct(exchange, 0.99):7.1f} ms  max {max(exchange) * 1000:7.1f} ms"
        )
        print(
            f"      webhook->fill event p50 {pct(fill, 0.5):7.1f} ms  "
            f"p99 {pct(fill, 0.99):7.1f} ms  mean {statistics.fmean(fill) * 1000:7.1f} ms"
        )
    if done:
        per_order = "  ".join(f"{n} {s / done * 1000:.2f} ms" for n, s in phase.cpu_s.items())
        print(f"      CPU per order: {per_order}")


async def bench(
    args: argparse.Namespace, paper: PaperExchangeProcess, vault_env: dict[str, str]
) -> None:
    namespace = "bench" + secrets.token_hex(4)
    topology = Topology(namespace=namespace)
    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    await ensure_topology(js, topology)
    executor = one_service(
        "executor",
        Path(args.workdir),
        {
            "role": "all",  # the accounts API too: tenants' accounts are added through it
            "nats_url": NATS_URL,
            "database_url": DATABASE_URL,
            "database_schema": namespace,
            "database_pool_size": 10,
            "paper_exchange_url": paper.base_url,
            "client_pool_size": args.tenants + 100,
            "log_level": "WARNING",
            "tracker_interval_s": 1.0,
            **vault_env,
            **verify_key_settings(),
        },
        namespace=namespace,
    )
    collector = Collector()
    try:
        executor.start()
        await asyncio.to_thread(executor.wait_ready)
        started = time.perf_counter()
        tenants = await add_tenants(js, topology, paper, executor.url, args.tenants)
        took = time.perf_counter() - started
        print(f"setup: {args.tenants} tenants with paper accounts in {took:.1f} s")
        for kind in ("order.submitted", "order.filled"):
            await nc.subscribe(f"{namespace}.events.*.{kind}", cb=collector.on_event)
        meter = CpuMeter({"executor": executor.pid, "paper": paper.pid})
        cold = Phase("cold")
        await run_phase(
            js, topology, collector, cold, tenants, rate=args.rate, count=len(tenants), meter=meter
        )
        report(cold, args.rate)
        warm = Phase("warm")
        count = int(args.rate * args.seconds)
        await run_phase(
            js, topology, collector, warm, tenants, rate=args.rate, count=count, meter=meter
        )
        report(warm, args.rate)
    finally:
        await asyncio.to_thread(executor.stop)
        await delete_topology(js, topology)
        await nc.close()
        conn = await asyncpg.connect(DATABASE_URL)
        with contextlib.suppress(Exception):
            await conn.execute(f'DROP SCHEMA IF EXISTS "{namespace}" CASCADE')
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--logs", help="keep the processes' logs in this directory")
    args = parser.parse_args()
    print("== executor ==")
    with tempfile.TemporaryDirectory(prefix="sparky-bench-executor-") as workdir:
        args.workdir = args.logs or workdir
        with vault_dev_server() as vault, paper_exchange(Path(args.workdir)) as paper:
            identities = setup_approles(vault.url, vault.root_token, suffix="bench")
            env = {k: str(v) for k, v in vault_settings(identities).items()}
            asyncio.run(bench(args, paper, env))


if __name__ == "__main__":
    main()

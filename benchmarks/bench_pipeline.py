"""The whole pipeline under open-model load: webhook to paper exchange to ledger.

``python -m benchmarks.bench_pipeline [--rate 200] [--seconds 60] [--tenants 1000]
[--burst 5000] [--quick]`` (``--quick``: 50 tenants, 50/s for 10 s, a burst of 500).

All six services run as processes (``scripts.devstack.Stack``, as ``make run`` starts them)
in a namespace of their own, against NATS, Postgres and Redis from ``SPARKY_TEST_*_URL``
(local defaults) and an OpenBao dev server the bench starts. Traders are provisioned through
the APIs; then three phases, each sent by a separate load-generator process on a fixed
schedule (``benchmarks/pipeline/load.py``) and followed until the ledger has settled it:

1. warm-up: each tenant's first alert (Vault read, new ccxt client), at ``--rate``;
2. sustained: ``--rate`` alerts/s for ``--seconds``, round-robin over the tenants;
3. burst: ``--burst`` alerts due within one second, as at a candle close.

Each phase prints the webhook answers (with TradingView's resends of a 5xx), latency from
the alert's due time to the webhook answer, to the router's order stored in ORDERS, to the
order at the paper exchange and to the fill committed in the ledger (see
``benchmarks/pipeline/figures.py``), and per process CPU, CPU per alert above an idle
baseline and peak RSS. Everything the run created is removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import asyncpg

from benchmarks.pipeline.figures import PhaseFigures, print_phase
from benchmarks.pipeline.outcomes import (
    Sent,
    exchange_times,
    intents_stored,
    ledger_positions,
    orders_stored,
    wait_settled,
)
from benchmarks.pipeline.probes import LedgerWatch, PhaseProbe, Processes, Usage
from benchmarks.pipeline.tenants import provision_many
from libs.common.topology import Topology
from scripts.devstack import ROOT, Stack, StackConfig
from tests.helpers.servers import ServerUrls, urls_from_env
from tests.helpers.stack import running_stack, stack_config
from tests.helpers.vault import VaultServer, vault_dev_server

QUICK = {"tenants": 50, "rate": 50.0, "seconds": 10.0, "burst": 500}
FULL = {"tenants": 1000, "rate": 200.0, "seconds": 60.0, "burst": 5000}
IDLE_S = 10.0  # the baseline before the load
STALL_S = 30.0  # a phase is over when the ledger settles nothing more for this long


class Bench:
    """One running stack, its traders' webhook tokens and the probes that watch it."""

    def __init__(
        self, cfg: StackConfig, stack: Stack, tokens: list[str], conn: asyncpg.Connection
    ) -> None:
        self.cfg, self.tokens, self.conn = cfg, tokens, conn
        self.schema = cfg.schema("ledger")
        self.watch = LedgerWatch(cfg.infra.database_url, self.schema)
        pids = {name: proc.pid for name, proc in stack.processes.items() if proc.pid}
        self.pids = pids | {"bench": os.getpid()}
        self.topology = Topology(namespace=cfg.namespace)
        self.stored = self.settled = 0  # over all phases so far
        self.orders_seq = 0  # how far the ORDERS stream has been read
        self.idle: dict[str, float] = {}  # each group's share of a core with no load

    async def measure_idle(self, seconds: float) -> None:
        """Measure what every process uses with no load, to tell the load's own cost apart."""
        probe = PhaseProbe(Processes.find(self.pids))
        probe.start()
        await asyncio.sleep(seconds)
        usage = await probe.stop()
        self.idle = {name: use.cpu_s / seconds for name, use in usage.items()}
        shares = ", ".join(f"{k} {v * 100:.0f}%" for k, v in sorted(self.idle.items()))
        print(f"idle for {seconds:g} s, share of a core: {shares}")

    async def phase(self, label: str, name: str, rate: float, count: int) -> PhaseFigures:
        """Send ``count`` alerts at ``rate``/s, wait until the ledger settles, measure."""
        probe = PhaseProbe(Processes.find(self.pids))  # found again: Postgres backends come and go
        probe.start()
        started, load = time.perf_counter(), os.getloadavg()[0]
        result = await self._generate(label, rate, count)
        sent = [Sent.from_row(row) for row in result["alerts"]]
        figures = PhaseFigures(f"{name} [load average {load:.1f}]", sent)
        figures.max_lag_ms = result["max_lag_ms"]
        # Every alert ingress stored must settle, including those whose answer never came.
        stored = await intents_stored(self.cfg.infra.nats_url, self.topology)
        settled = await wait_settled(self.conn, self.schema, stored, STALL_S)
        figures.stored, figures.settled = stored - self.stored, settled - self.settled
        self.stored, self.settled = stored, settled
        figures.wall_s = time.perf_counter() - started
        figures.usage = await probe.stop() | {"load generator": Usage(result["generator_cpu_s"])}
        figures.idle = self.idle
        await self._match(figures)
        return figures

    async def _match(self, figures: PhaseFigures) -> None:
        """Find each accepted alert's order in ORDERS, at the exchange and in the ledger."""
        orders, self.orders_seq = await orders_stored(
            self.cfg.infra.nats_url, self.topology, self.orders_seq
        )
        paper_state = self.cfg.data_dir / f"paper-{self.cfg.namespace}.sqlite3"
        figures.measure(orders, exchange_times(paper_state))
        figures.measure_ledger(await ledger_positions(self.conn, self.schema), self.watch)

    async def _generate(self, label: str, rate: float, count: int) -> dict[str, Any]:
        plan_file, out_file = self.cfg.data_dir / "plan.json", self.cfg.data_dir / "result.json"
        run = f"{label}-{secrets.token_hex(3)}"  # each alert's id, so its dedup key, is new
        plan: dict[str, Any] = {"port": self.cfg.ports["ingress"], "rate": rate, "count": count}
        plan |= {"tokens": self.tokens, "run": run}
        plan_file.write_text(json.dumps(plan))
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks.pipeline.load",
            str(plan_file),
            str(out_file),
            cwd=ROOT,
        )
        if await proc.wait() != 0:
            raise SystemExit(f"the load generator failed (exit {proc.returncode})")
        result: dict[str, Any] = json.loads(out_file.read_text())
        return result


async def run_phases(args: argparse.Namespace, cfg: StackConfig, stack: Stack) -> None:
    """Provision the traders, then run and print the three phases."""
    traders, took = await provision_many(cfg, args.tenants)
    print(f"provisioned {args.tenants} traders through the APIs in {took:.1f} s")
    conn = await asyncpg.connect(cfg.infra.database_url)  # one, held: the server is shared
    bench = Bench(cfg, stack, [t.webhook_token for t in traders], conn)
    await bench.watch.start()
    try:
        await bench.measure_idle(IDLE_S)
        phases = (
            ("warm", "warm-up: each tenant's first alert", args.rate, args.tenants),
            (
                "sustained",
                f"sustained: {args.rate:g}/s for {args.seconds:g} s",
                args.rate,
                args.total,
            ),
            ("burst", f"burst: {args.burst} alerts in 1 s", float(args.burst), args.burst),
        )
        for label, name, rate, count in phases:
            print_phase(await bench.phase(label, name, rate, count))
    finally:
        await bench.watch.stop()
        await conn.close()


async def bench(args: argparse.Namespace, urls: ServerUrls, vault: VaultServer) -> None:
    """Run the phases against a fresh stack; remove everything it made afterwards."""
    namespace = "bench" + secrets.token_hex(4)
    # Every tenant's ccxt client stays pooled, as an operator sizes the pool for its tenants.
    pool = {"CLIENT_POOL_SIZE": str(args.tenants + 100)}
    cfg = replace(stack_config(urls, vault, namespace, args.workdir), extra_env={"executor": pool})
    # running_stack with no services of its own: its exit removes the namespace's streams,
    # buckets, schemas and Redis keys once our stack (with its extra settings and the
    # services' own pool sizes, not the tests' small ones) has stopped.
    async with running_stack(urls, vault, namespace, args.workdir, services=()):
        stack = Stack(cfg)
        try:
            started = time.perf_counter()
            await asyncio.to_thread(stack.start)
            print(f"stack started in {time.perf_counter() - started:.1f} s")
            await run_phases(args, cfg, stack)
        except Exception:
            for name, proc in stack.processes.items():  # the logs go with the temporary folder
                print(f"-- {name} log, last lines --\n{proc.tail(15)}", file=sys.stderr)
            raise
        finally:
            await asyncio.to_thread(stack.stop)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short development run")
    parser.add_argument("--tenants", type=int)
    parser.add_argument("--rate", type=float, help="sustained alerts per second")
    parser.add_argument("--seconds", type=float, help="how long the sustained phase lasts")
    parser.add_argument("--burst", type=int, help="alerts due within one second")
    args = parser.parse_args(argv)
    for key, default in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, default)
    args.total = int(args.rate * args.seconds)
    return args


def main() -> None:
    args = parse_args()
    print(
        f"== whole pipeline: {args.tenants} tenants, {args.rate:g}/s for {args.seconds:g} s, "
        f"burst {args.burst}; {os.cpu_count()} cores =="
    )
    with tempfile.TemporaryDirectory(prefix="sparky-bench-pipeline-") as workdir:
        args.workdir = Path(workdir)
        with vault_dev_server() as vault:
            asyncio.run(bench(args, urls_from_env(), vault))


if __name__ == "__main__":
    main()

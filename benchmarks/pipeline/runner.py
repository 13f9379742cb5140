"""One running stack under the bench: its phases, the kills during one, what each measured."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import asyncpg
import httpx

from benchmarks.pipeline.cpu import CpuSampler, Readings, cpu_between
from benchmarks.pipeline.figures import PhaseFigures
from benchmarks.pipeline.mix import Mix
from benchmarks.pipeline.outcomes import (
    Sent,
    exchange_times,
    intents_stored,
    ledger_fill_counts,
    ledger_positions,
    orders_stored,
    refused_intents,
    wait_settled,
)
from benchmarks.pipeline.probes import LedgerWatch, Usage
from benchmarks.pipeline.verdicts import Kill
from libs.common.topology import Topology
from scripts.devstack import ROOT, Stack, StackConfig

STALL_S = 30.0  # a phase is over when the ledger settles nothing more for this long
KILL_AFTER_S = 2.5  # from starting the load generator: its burst is in the pipeline
KILL_GAP_S = 5.0  # from a restarted service being ready to the next kill


class Bench:
    """One running stack, its traders' webhook tokens and the probes that watch it."""

    def __init__(
        self, cfg: StackConfig, stack: Stack, tokens: list[str], conn: asyncpg.Connection
    ) -> None:
        self.cfg, self.stack, self.tokens, self.conn = cfg, stack, tokens, conn
        self.schema = cfg.schema("ledger")
        self.watch = LedgerWatch(cfg.infra.database_url, self.schema)
        self.sampler = CpuSampler(self._pids)
        self.topology = Topology(namespace=cfg.namespace)
        self.stored = self.settled = 0  # over all phases so far
        self.orders_seq = 0  # how far the ORDERS stream has been read
        self.idle: dict[str, float] = {}  # each group's share of a core with no load

    def _pids(self) -> dict[str, int]:
        """The services' pids now (a restart changes them) and the bench's own."""
        found = {name: proc.pid for name, proc in self.stack.processes.items() if proc.pid}
        return found | {"bench": os.getpid()}

    async def start(self) -> None:
        await self.watch.start()
        self.sampler.start()

    async def stop(self) -> None:
        await self.sampler.stop()
        await self.watch.stop()

    async def add_exchange_latency(self, latency_ms: int) -> None:
        """Make the paper exchange wait ``latency_ms`` before placing each order, for the run."""
        fault = {"kind": "latency", "latency_ms": latency_ms, "method": "POST"}
        fault["path"] = "/api/v3/order"
        async with httpx.AsyncClient(timeout=10) as client:
            resp = await client.post(
                f"{self.cfg.url('paper')}/admin/faults",
                json=fault,
                headers={"Authorization": f"Bearer {self.cfg.paper_admin_token}"},
            )
            resp.raise_for_status()

    async def _usage(self, start: Readings) -> dict[str, Usage]:
        """What each group used from the reading ``start`` to now."""
        end = await self.sampler.sample()
        left_out = {self.conn.get_server_pid(), self.watch.backend_pid}
        cpu = cpu_between(start, end, left_out)
        return {name: Usage(s, self.sampler.rss_peaks.get(name, 0)) for name, s in cpu.items()}

    async def measure_idle(self, seconds: float) -> None:
        """Measure what every process uses with no load, to tell the load's own cost apart."""
        start = await self.sampler.sample()
        await asyncio.sleep(seconds)
        usage = await self._usage(start)
        self.idle = {name: use.cpu_s / seconds for name, use in usage.items()}
        shares = ", ".join(f"{k} {v * 100:.0f}%" for k, v in sorted(self.idle.items()))
        print(f"idle for {seconds:g} s, share of a core: {shares}")

    async def phase(
        self, label: str, name: str, rate: float, count: int, mix: Mix | None = None
    ) -> PhaseFigures:
        """Send ``count`` alerts at ``rate``/s, wait until the ledger settles, measure."""
        figures, _ = await self.phase_with_kills(label, name, rate, count, mix=mix, kill=())
        return figures

    async def phase_with_kills(
        self,
        label: str,
        name: str,
        rate: float,
        count: int,
        *,
        mix: Mix | None,
        kill: Sequence[str],
    ) -> tuple[PhaseFigures, list[Kill]]:
        """`phase`, SIGKILLing and restarting the ``kill`` services in turn while it runs."""
        start = await self.sampler.sample()
        self.sampler.reset_peaks()
        started, load = time.perf_counter(), os.getloadavg()[0]
        killer = asyncio.create_task(self._kill_in_turn(kill))
        result = await self._generate(label, rate, count, mix)
        kills = await killer
        sent = [Sent.from_row(row) for row in result["alerts"]]
        figures = PhaseFigures(f"{name} [load average {load:.1f}]", sent)
        figures.max_lag_ms = result["max_lag_ms"]
        # Every alert ingress stored must settle, including those whose answer never came.
        stored = await intents_stored(self.cfg.infra.nats_url, self.topology)
        settled = await wait_settled(self.conn, self.schema, stored, STALL_S)
        figures.stored, figures.settled = stored - self.stored, settled - self.settled
        self.stored, self.settled = stored, settled
        figures.wall_s = time.perf_counter() - started
        figures.usage = await self._usage(start)
        figures.usage["load generator"] = Usage(result["generator_cpu_s"])
        figures.idle = self.idle
        await self._match(figures)
        return figures, kills

    async def _kill_in_turn(self, services: Sequence[str]) -> list[Kill]:
        """SIGKILL each service once the load is in the pipeline; restart it as the bench
        started it; the next one ``KILL_GAP_S`` after it is ready again.
        """
        kills: list[Kill] = []
        if services:
            await asyncio.sleep(KILL_AFTER_S)
        for service in services:
            proc = self.stack[service]
            killed = time.time() * 1e3
            await asyncio.to_thread(proc.kill)
            restarted = time.time() * 1e3
            await asyncio.to_thread(proc.start)
            await asyncio.to_thread(proc.wait_ready, 90.0)
            kills.append(Kill(service, killed, restarted, time.time() * 1e3))
            await asyncio.sleep(KILL_GAP_S)
        return kills

    async def _match(self, figures: PhaseFigures) -> None:
        """Find each accepted alert's order in ORDERS, at the exchange and in the ledger."""
        orders, self.orders_seq = await orders_stored(
            self.cfg.infra.nats_url, self.topology, self.orders_seq
        )
        paper_state = self.cfg.data_dir / f"paper-{self.cfg.namespace}.sqlite3"
        figures.measure(orders, *exchange_times(paper_state))
        figures.measure_ledger(await ledger_positions(self.conn, self.schema), self.watch)
        figures.ledger_counts = await ledger_fill_counts(self.conn, self.schema)
        figures.refused = await refused_intents(self.conn, self.schema)

    async def _generate(
        self, label: str, rate: float, count: int, mix: Mix | None
    ) -> dict[str, Any]:
        plan_file, out_file = self.cfg.data_dir / "plan.json", self.cfg.data_dir / "result.json"
        run = f"{label}-{secrets.token_hex(3)}"  # each alert's id, so its dedup key, is new
        plan: dict[str, Any] = {"port": self.cfg.ports["ingress"], "rate": rate, "count": count}
        plan |= {"tokens": self.tokens, "run": run}
        if mix is not None:
            plan["mix"] = {k: v for k, v in asdict(mix).items() if k != "tenants"}
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

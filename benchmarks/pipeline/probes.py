"""What the bench watches while the load runs: processes' CPU and memory, the ledger's progress.

Both are cheap on purpose (they share the two cores with what they measure): the process
probe samples RSS twice a second and reads CPU times at a phase's edges; the ledger probe
reads one row, the projector's stream position, every ``LEDGER_POLL_S``.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import asyncpg
import psutil

RSS_EVERY_S = 0.5
LEDGER_POLL_S = 0.01
# Shared servers, found by process name: their CPU includes everyone else's work on them.
INFRA = {"nats-server": "nats-server", "postgres": "postgres", "redis-server": "redis"}


@dataclass
class Usage:
    """One process group's use of the machine during a phase."""

    cpu_s: float = 0.0
    rss_peak: int = 0  # bytes; 0 when the group has several processes (shared pages)


@dataclass
class Processes:
    """Named groups of pids: our services and own children, and the infrastructure by name."""

    groups: dict[str, list[psutil.Process]] = field(default_factory=dict)

    @classmethod
    def find(cls, services: Mapping[str, int]) -> Processes:
        """Group the services' pids, our other children (OpenBao) and the shared servers."""
        found = {name: [psutil.Process(pid)] for name, pid in services.items()}
        known = set(services.values())
        for child in psutil.Process().children(recursive=True):
            if child.pid not in known and child.name() == "bao":
                found.setdefault("openbao", []).append(child)
        for proc in psutil.process_iter(["name"]):
            group = INFRA.get(proc.info["name"] or "")
            if group:
                found.setdefault(group, []).append(proc)
        return cls(found)

    def cpu(self) -> dict[str, dict[int, float]]:
        """CPU seconds (user + system) of every process, by group and pid."""
        return {name: _cpu_by_pid(procs) for name, procs in self.groups.items()}

    def rss(self) -> dict[str, int]:
        """Resident memory of each single-process group, in bytes."""
        return {
            name: _rss(procs[0])
            for name, procs in self.groups.items()
            if len(procs) == 1 and name != "postgres"
        }


def _cpu_by_pid(procs: list[psutil.Process]) -> dict[int, float]:
    seconds = {}
    for proc in procs:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue  # a Postgres backend that ended: its CPU is lost to the figure
        seconds[proc.pid] = times.user + times.system
    return seconds


def _rss(proc: psutil.Process) -> int:
    try:
        return int(proc.memory_info().rss)
    except psutil.NoSuchProcess:
        return 0


class PhaseProbe:
    """CPU seconds and peak RSS of every group between `start` and `stop`."""

    def __init__(self, processes: Processes) -> None:
        self._processes = processes
        self._cpu0: dict[str, dict[int, float]] = {}
        self._peaks: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._cpu0 = self._processes.cpu()
        self._peaks = {}
        self._task = asyncio.create_task(self._sample())

    async def _sample(self) -> None:
        while True:
            for name, rss in (await asyncio.to_thread(self._processes.rss)).items():
                self._peaks[name] = max(self._peaks.get(name, 0), rss)
            await asyncio.sleep(RSS_EVERY_S)

    async def stop(self) -> dict[str, Usage]:
        if self._task is not None:
            self._task.cancel()
        usage = {}
        for name, by_pid in self._processes.cpu().items():
            before = self._cpu0.get(name, {})
            cpu_s = sum(s - before.get(pid, 0.0) for pid, s in by_pid.items())
            usage[name] = Usage(cpu_s, self._peaks.get(name, 0))
        return usage


class LedgerWatch:
    """When the ledger's projector committed each stream position, as seen by polling."""

    def __init__(self, database_url: str, schema: str) -> None:
        self._url = database_url
        self._query = f'SELECT coalesce(max(last_seq), 0) FROM "{schema}".projector_state'  # noqa: S608
        self.seqs: list[int] = [0]
        self.times_ms: list[float] = [0.0]
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        conn = await asyncpg.connect(self._url)
        self._task = asyncio.create_task(self._poll(conn))

    async def _poll(self, conn: asyncpg.Connection) -> None:
        try:
            while True:
                seq = int(await conn.fetchval(self._query))
                if seq > self.seqs[-1]:
                    self.seqs.append(seq)
                    self.times_ms.append(time.time() * 1e3)
                await asyncio.sleep(LEDGER_POLL_S)
        finally:
            await conn.close()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def seen_at_ms(self, seq: int) -> float | None:
        """When the projector was first seen past stream position ``seq`` (None: not yet)."""
        at = bisect.bisect_left(self.seqs, seq)
        return self.times_ms[at] if at < len(self.seqs) else None

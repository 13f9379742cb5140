"""CPU time of every process the bench watches, sampled so that processes that come and go count.

Every ``SAMPLE_S`` the sampler reads the CPU time (user + system, from ``/proc``) of each
watched process and keeps the last reading of each one, by pid and start time (a reused pid
is another process). A phase's CPU per group is, summed over its processes, the reading at
the phase's end (or the last one taken, for a process that ended) less the reading at its
start, or less nothing for a process that started during the phase (``/proc`` counts from
its birth). So Postgres backends opened or closed during a phase count, and so does a
service SIGKILLed and restarted. Lost: a process that starts and ends between two samples,
and the last ``SAMPLE_S`` or less of one that ends.

Groups: the services and the bench (by pid, asked again at each sample: a restart changes
it), OpenBao (the bench's children named ``bao``) and the shared servers, found by process
name (``INFRA``) among every pid in ``/proc``, each new pid looked at once. The bench's own
Postgres connections (its settle poller and the ledger probe) are left out by the backend
pids they report (``pg_backend_pid()``): their CPU goes to ``BENCH_BACKENDS``, not Postgres.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Collection, Mapping

import psutil

SAMPLE_S = 0.2
# Shared servers, found by process name: their CPU includes everyone else's work on them.
INFRA = {"nats-server": "nats-server", "postgres": "postgres", "redis-server": "redis"}
BENCH_BACKENDS = "postgres: bench's own"

Key = tuple[int, float]  # pid, start time
Readings = dict[str, dict[Key, float]]  # group -> process -> CPU seconds


def cpu_between(start: Readings, end: Readings, left_out: Collection[int] = ()) -> dict[str, float]:
    """CPU seconds each group used from ``start`` to ``end``; ``left_out`` pids go to
    ``BENCH_BACKENDS`` instead of their group.
    """
    used: dict[str, float] = {}
    for group, processes in end.items():
        before = start.get(group, {})
        for key, cpu_s in processes.items():
            name = BENCH_BACKENDS if key[0] in left_out else group
            used[name] = used.get(name, 0.0) + max(cpu_s - before.get(key, 0.0), 0.0)
    return used


class CpuSampler:
    """Samples the watched processes' CPU every ``SAMPLE_S``; keeps peak RSS per group."""

    def __init__(self, services: Callable[[], Mapping[str, int]]) -> None:
        self._services = services  # group -> pid, now
        self._book: Readings = {}
        self._infra: dict[int, str | None] = {}  # pid -> group, None: not watched
        self._handles: dict[int, psutil.Process] = {}
        self._openbao = [p.pid for p in psutil.Process().children(recursive=True) if _is_bao(p)]
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.rss_peaks: dict[str, int] = {}  # single-process groups, since `reset_peaks`

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            await self.sample()
            await asyncio.sleep(SAMPLE_S)

    async def sample(self) -> Readings:
        """Read every watched process now; return the last reading of each one seen so far."""
        async with self._lock:
            cpu, rss = await asyncio.to_thread(self._read)
        for group, readings in cpu.items():
            self._book.setdefault(group, {}).update(readings)
        for group, size in rss.items():
            self.rss_peaks[group] = max(self.rss_peaks.get(group, 0), size)
        return {group: dict(readings) for group, readings in self._book.items()}

    def reset_peaks(self) -> None:
        self.rss_peaks = {}

    def _read(self) -> tuple[Readings, dict[str, int]]:
        cpu: Readings = {}
        rss: dict[str, int] = {}
        for group, pids in self._groups().items():
            for pid in pids:
                try:
                    handle = self._handle(pid)
                    times, key = handle.cpu_times(), (pid, handle.create_time())
                    cpu.setdefault(group, {})[key] = times.user + times.system
                    if len(pids) == 1 and group != "postgres":
                        rss[group] = int(handle.memory_info().rss)
                except psutil.Error:
                    self._handles.pop(pid, None)  # ended: its last reading stays in the book
        return cpu, rss

    def _groups(self) -> dict[str, list[int]]:
        groups = {name: [pid] for name, pid in self._services().items()}
        if self._openbao:
            groups["openbao"] = self._openbao
        pids = [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]
        self._infra = {pid: self._infra[pid] if pid in self._infra else _infra(pid) for pid in pids}
        for pid, group in self._infra.items():
            if group is not None:
                groups.setdefault(group, []).append(pid)
        return groups

    def _handle(self, pid: int) -> psutil.Process:
        handle = self._handles.get(pid)
        if handle is None or not handle.is_running():
            handle = self._handles[pid] = psutil.Process(pid)
        return handle


def _infra(pid: int) -> str | None:
    try:
        return INFRA.get(psutil.Process(pid).name())
    except psutil.Error:
        return None


def _is_bao(proc: psutil.Process) -> bool:
    try:
        return proc.name() == "bao"
    except psutil.Error:
        return False

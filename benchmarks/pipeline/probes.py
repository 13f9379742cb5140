"""What the bench watches while the load runs: the ledger's progress; `Usage`, what a phase used.

Cheap on purpose (it shares the two cores with what it measures): the ledger probe reads one
row, the projector's stream position, every ``LEDGER_POLL_S``, on a connection whose
backend the CPU figures leave out of Postgres's (``backend_pid``). Processes' CPU and memory
are sampled by ``benchmarks/pipeline/cpu.py``.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from dataclasses import dataclass

import asyncpg

LEDGER_POLL_S = 0.01


@dataclass
class Usage:
    """One process group's use of the machine during a phase."""

    cpu_s: float = 0.0
    rss_peak: int = 0  # bytes; 0 when the group has several processes (shared pages)


class LedgerWatch:
    """When the ledger's projector committed each stream position, as seen by polling."""

    def __init__(self, database_url: str, schema: str) -> None:
        self._url = database_url
        self._query = f'SELECT coalesce(max(last_seq), 0) FROM "{schema}".projector_state'  # noqa: S608
        self.seqs: list[int] = [0]
        self.times_ms: list[float] = [0.0]
        self._task: asyncio.Task[None] | None = None
        self.backend_pid = 0  # the Postgres backend serving the probe

    async def start(self) -> None:
        conn = await asyncpg.connect(self._url)
        self.backend_pid = conn.get_server_pid()
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

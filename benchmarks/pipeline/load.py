"""Open-model webhook load, in a process of its own: alerts on a fixed schedule.

``python -m benchmarks.pipeline.load PLAN_FILE RESULT_FILE`` (the bench writes the plan).
Alert *i* is due at ``start + i / rate`` whether or not earlier ones were answered, so a
stalled pipeline is charged for everything queued behind it. It goes out on an idle
keep-alive connection or a new one (TradingView's senders are many machines, not one polite
client). As TradingView does, an alert answered with a 5xx (or a broken connection) is sent
again up to 3 times, 5 s apart, with the same body and so the same dedup key.

Which tenant sends each alert and what it says is the plan's mix (``pipeline/mix.py``).
Per alert the result holds its due time (wall clock, ms), the first and the final status,
the intent id of a 202, how long the first answer took and the sender's tenant index. A
separate process keeps the bench's own probes from delaying the schedule, as in
``bench_ingress``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvloop

from benchmarks.pipeline.mix import Mix
from benchmarks.rawhttp import Connection

RESENDS = 3
RESEND_AFTER_S = 5.0
IDLE_CONNECTIONS = 64
GRACE_S = 60.0  # after the last resend, how long answers are still awaited


def alert_request(token: str, body: bytes) -> bytes:
    """Return the raw HTTP request TradingView would send for ``body``."""
    head = (
        f"POST /webhooks/tv/{token} HTTP/1.1\r\nHost: ingress\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


@dataclass
class _Sender:
    """Sends the plan's alerts; remembers what each one got."""

    port: int
    idle: list[Connection] = field(default_factory=list)
    results: dict[int, list[Any]] = field(default_factory=dict)

    async def connect(self) -> Connection:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(Connection, "127.0.0.1", self.port)
        return protocol

    async def attempt(self, request: bytes) -> tuple[int, bytes]:
        """Send once; (0, b"") when no connection could carry it."""
        reused = self.idle.pop() if self.idle else None
        if reused is not None and not reused.closed:
            try:
                return await self._send(reused, request)
            except OSError:
                pass  # closed as idle by the server just then: not a failure of the server
        try:
            return await self._send(await self.connect(), request)
        except OSError:
            return 0, b""  # refused or reset: TradingView counts it as a failure and resends

    async def _send(self, connection: Connection, request: bytes) -> tuple[int, bytes]:
        answer = await connection.send(request)
        self.idle.append(connection)
        return answer

    async def alert(self, i: int, request: bytes, due_wall_ms: float, due: float) -> None:
        """Send alert ``i`` and its resends; record them as they come (the run may give up)."""
        status, body = await self.attempt(request)
        answer_ms = (time.perf_counter() - due) * 1e3
        row = self.results[i]
        row[1:3], row[4] = [status, status], round(answer_ms, 3)
        for _ in range(RESENDS):
            if 0 < status < 500:
                break
            await asyncio.sleep(RESEND_AFTER_S)
            status, body = await self.attempt(request)
            row[2] = status
        if status == 202:
            row[3] = json.loads(body)["intent_id"]


async def generate(plan: dict[str, Any]) -> dict[str, Any]:
    """Send ``plan["count"]`` alerts at ``plan["rate"]``/s; return what each one got."""
    sender = _Sender(plan["port"])
    sender.idle = [await sender.connect() for _ in range(IDLE_CONNECTIONS)]
    tokens, rate, run = plan["tokens"], float(plan["rate"]), plan["run"]
    mix = Mix(len(tokens), **plan.get("mix", {}))
    cpu0, max_lag, tasks = time.process_time(), 0.0, []
    # perf_counter for the schedule (uvloop's clock has millisecond resolution), anchored once
    # to the wall clock the services stamp their records with.
    start = time.perf_counter() + 0.05
    wall_start_ms = (time.time() + start - time.perf_counter()) * 1e3
    for i in range(plan["count"]):
        due = start + i / rate
        if (delay := due - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        max_lag = max(max_lag, time.perf_counter() - due)
        tenant, body = mix.alert(i, run)
        due_wall_ms = wall_start_ms + i / rate * 1e3
        # Until answered: "no answer" (-1), as when the run gives up on it.
        sender.results[i] = [round(due_wall_ms, 3), -1, -1, "", None, tenant]
        coro = sender.alert(i, alert_request(tokens[tenant], body), due_wall_ms, due)
        tasks.append(asyncio.get_running_loop().create_task(coro))
    _, pending = await asyncio.wait(tasks, timeout=RESENDS * RESEND_AFTER_S + GRACE_S)
    for task in pending:
        task.cancel()  # never answered: "no answer" (-1); or its resends cut short
    return {
        "alerts": [sender.results[i] for i in range(len(tasks))],
        "generator_cpu_s": time.process_time() - cpu0,
        "max_lag_ms": max_lag * 1e3,
    }


def main() -> None:
    plan = json.loads(Path(sys.argv[1]).read_text())
    Path(sys.argv[2]).write_text(json.dumps(uvloop.run(generate(plan))))


if __name__ == "__main__":
    main()

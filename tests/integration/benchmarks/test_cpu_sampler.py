"""The pipeline bench's CPU sampler against the real Postgres: short-lived backends count."""

from __future__ import annotations

import asyncpg
import psutil

from benchmarks.pipeline.cpu import CpuSampler, cpu_between
from tests.helpers.polling import eventually
from tests.helpers.servers import ServerUrls

BUSY_SQL = "SELECT count(*) FROM generate_series(1, 3000000)"  # a few hundred ms of CPU


async def test_a_backend_opened_and_closed_within_a_phase_is_counted(
    server_urls: ServerUrls,
) -> None:
    sampler = CpuSampler(dict)  # no services: only the shared servers, found by name
    sampler.start()
    try:
        start = await sampler.sample()
        conn = await asyncpg.connect(server_urls.postgres)
        pid = conn.get_server_pid()
        await conn.fetchval(BUSY_SQL)
        await eventually(  # read after its work, while it lives
            sampler.sample,
            until=lambda readings: any(key[0] == pid for key in readings.get("postgres", {})),
            what="the backend read while it lives",
        )
        await conn.close()
        await eventually(lambda: pid not in _postgres_pids(), what="the backend gone")
        end = await sampler.sample()
    finally:
        await sampler.stop()
    # Only that backend's readings: other users of the shared server come and go too.
    ours = {"postgres": {key: s for key, s in end["postgres"].items() if key[0] == pid}}
    assert cpu_between(start, ours)["postgres"] > 0.05


def _postgres_pids() -> set[int]:
    return {p.pid for p in psutil.process_iter(["name"]) if p.info["name"] == "postgres"}

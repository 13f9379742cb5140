"""Paging through trades while new ones are recorded neither repeats nor skips one."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import httpx
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.topology import Topology
from tests.helpers.ledger import T0
from tests.helpers.namespaces import PgSchema
from tests.integration.ledger.support import key_for, seed_trades, trade_record


async def test_paging_is_stable_while_trades_are_recorded(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    js: JetStreamContext,
    topology: Topology,
    pg_schema: PgSchema,
) -> None:
    tied = T0 + timedelta(seconds=150)  # 20 trades in one instant: the id breaks the tie
    originals = [trade_record("tenant-a", T0 + timedelta(seconds=i), i) for i in range(300)]
    originals += [trade_record("tenant-a", tied, 1000 + i) for i in range(20)]
    await seed_trades(pg_schema.url, pg_schema.name, originals)
    headers = await key_for(client, js, topology, "tenant-a")
    written: list[tuple[object, ...]] = []
    stop = asyncio.Event()

    async def record(n: int) -> None:
        batch = [
            trade_record("tenant-a", T0 + timedelta(days=1, seconds=n), 5000 + n),  # newer
            trade_record("tenant-a", tied, 7000 + n),  # in the very instant being paged
            trade_record("tenant-a", T0 - timedelta(seconds=n), 9000 + n),  # older
        ]
        await seed_trades(pg_schema.url, pg_schema.name, batch)
        written.extend(batch)

    async def keep_recording() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            await record(n)
            await asyncio.sleep(0.005)

    writer = asyncio.create_task(keep_recording())
    seen: list[tuple[datetime, str]] = []
    cursor: str | None = None
    pages = 0
    try:
        while True:
            params = {"limit": "25", **({"cursor": cursor} if cursor else {})}
            body = (await client.get("/api/v1/trades", params=params, headers=headers)).json()
            seen.extend((datetime.fromisoformat(t["time"]), t["id"]) for t in body["trades"])
            pages += 1
            if (cursor := body["next_cursor"]) is None:
                break
            await record(100_000 + pages)  # at least these between every two pages
    finally:
        stop.set()
        await writer
    ids = [trade_id for _, trade_id in seen]
    assert len(ids) == len(set(ids)), "a trade was shown twice"
    assert {str(row[0]) for row in originals} <= set(ids), "a trade was skipped"
    assert seen == sorted(seen, reverse=True), "pages went back in time"
    assert len(written) >= 3 * (pages - 1)

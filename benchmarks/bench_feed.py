"""Benchmark of the alert feed (issue 18): ``GET /api/v1/alerts`` with 100,000 alerts.

Run with ``python -m benchmarks.bench_feed`` (``make bench-feed``). Prints figures; the ones
we keep are in docs/benchmarks.md. Needs Postgres at ``SPARKY_BENCH_DATABASE_URL`` (default:
the test database); works in a schema of its own, dropped afterwards.

One tenant gets 100,000 alerts of every fate (and two neighbours 50,000 each), written in
bulk through the projection's own table definition (``services.ledger.store.mapping.INTENTS``);
then the read API answers, in process, ``BENCH_FEED_REQUESTS`` (200) requests of each kind:
the first page, pages reached through the cursor, filtered pages, strategies, daily PnL.
Goal: p95 ≤ 100 ms for the feed's pages.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
import httpx
from sqlalchemy import text

from benchmarks.bench_ledger import KEY, TENANT, read_app
from libs.common.config import Environment
from libs.common.ids import new_id
from services.ledger.api.reads import Reads
from services.ledger.config import LedgerSettings
from services.ledger.domain.rows import IntentRow
from services.ledger.domain.strategies import tallies
from services.ledger.store.batch import STRATEGY_TOTALS_ADD
from services.ledger.store.database import engine_for, migrate
from services.ledger.store.mapping import INTENTS, STRATEGY_TOTALS

T0 = datetime(2026, 1, 5, tzinfo=UTC)
FATES = ("filled",) * 12 + ("rejected",) * 3 + ("refused", "failed", "placed", "canceled")
SYMBOLS = ("BINANCE:BTCUSDT", "BINANCE:ETHUSDT", "BINANCE:SOLUSDT", "BINANCE:XRPUSDT")
STRATEGIES = ("Trend", "Breakout", "Mean reversion", "Scalper", None)
CHUNK = 10_000


def alert_row(tenant: str, i: int) -> IntentRow:
    """Return the i-th alert of ``tenant``: every seventh second, fates mixed."""
    fate = FATES[i % len(FATES)]
    at = T0 + timedelta(seconds=7 * i)
    filled = Decimal("0.01") * (1 + i % 5) if fate == "filled" else Decimal(0)
    return IntentRow(
        tenant_id=tenant,
        intent_id=new_id(),
        status={"rejected": "rejected", "refused": "refused"}.get(fate, "accepted"),
        updated_at=at + timedelta(seconds=1),
        webhook_id="01JWEBHOOK0000000000000000",
        action=None if fate == "refused" else ("buy", "sell")[i % 2],
        symbol=None if fate == "refused" else SYMBOLS[i % len(SYMBOLS)],
        received_at=at,
        accepted_at=at,
        strategy=None if fate == "refused" else STRATEGIES[i % len(STRATEGIES)],
        feed_status=fate,
        outcome=f"Bench alert {i}: {fate}.",
        reason="quota_exceeded" if fate == "rejected" else None,
        filled_amount=filled,
        filled_notional=filled * 100,
        realized_pnl=Decimal(i % 11 - 5) if fate == "filled" and i % 2 else Decimal(0),
        pnl_currency="USDT" if fate == "filled" else None,
    )


async def seed(settings: LedgerSettings, alerts: int, tenant: str = TENANT) -> None:
    """Write the alerts in chunks, through the projection's table definitions: each chunk's
    rows in ``intents`` and what they add to their strategies' figures (as the projector
    would) in ``strategy_totals``."""
    engine = engine_for(settings)
    statement = text(INTENTS.insert_sql())
    totals = text(STRATEGY_TOTALS_ADD)
    try:
        for owner, count in (
            (tenant, alerts),
            ("neighbour-1", alerts // 2),
            ("neighbour-2", alerts // 2),
        ):
            for start in range(0, count, CHUNK):
                rows = [alert_row(owner, i) for i in range(start, min(start + CHUNK, count))]
                added = tallies({}, {(r.tenant_id, r.intent_id): r for r in rows})
                async with engine.begin() as conn:
                    await conn.execute(statement, INTENTS.params(rows))
                    await conn.execute(totals, STRATEGY_TOTALS.params(added, "totals"))
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE intents"))
            await conn.execute(text("ANALYZE strategy_totals"))
    finally:
        await engine.dispose()


def report(label: str, samples: list[float]) -> None:
    cuts = statistics.quantiles(samples, n=100)
    print(
        f"{label:<52} p50 {cuts[49] * 1e3:>6.1f} ms   p95 {cuts[94] * 1e3:>6.1f} ms"
        f"   p99 {cuts[98] * 1e3:>6.1f} ms   ({len(samples)} requests)"
    )


async def timed(call: Callable[[], Awaitable[httpx.Response]], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        response = await call()
        samples.append(time.perf_counter() - started)
        response.raise_for_status()
    return samples


async def deep_pages(http: httpx.AsyncClient, pages: int) -> list[float]:
    """Follow next_cursor for ``pages`` pages of 50; return each page's latency."""
    samples: list[float] = []
    cursor = None
    for _ in range(pages):
        params = {"limit": "50", **({"cursor": cursor} if cursor else {})}
        started = time.perf_counter()
        response = await http.get("/api/v1/alerts", params=params)
        samples.append(time.perf_counter() - started)
        response.raise_for_status()
        cursor = response.json()["next_cursor"]
    return samples


async def read_requests(http: httpx.AsyncClient, n: int) -> None:
    await timed(lambda: http.get("/api/v1/alerts"), 20)  # warm the pool and the caches
    pages = {
        "GET /alerts (first page of 50)": "/api/v1/alerts",
        "GET /alerts?status=filled": "/api/v1/alerts?status=filled",
        "GET /alerts?status=refused": "/api/v1/alerts?status=refused",
        "GET /alerts?strategy=Breakout": "/api/v1/alerts?strategy=Breakout",
        "GET /alerts?symbol=BINANCE:ETHUSDT&status=rejected": (
            "/api/v1/alerts?symbol=BINANCE:ETHUSDT&status=rejected"
        ),
        "GET /alerts?status=uncertain (matches none)": "/api/v1/alerts?status=uncertain",
        "GET /alerts?since=…&until=… (one day)": (
            "/api/v1/alerts?since=2026-01-10T00:00:00Z&until=2026-01-11T00:00:00Z"
        ),
    }
    for label, url in pages.items():
        report(label, await timed(lambda url=url: http.get(url), n))  # type: ignore[misc]
    report(f"GET /alerts?cursor=… (pages 1-{n} of 50)", await deep_pages(http, n))
    cpu = time.process_time()
    samples = await timed(lambda: http.get("/api/v1/strategies"), n)
    report("GET /strategies (100,000 alerts)", samples)
    # The API's own CPU (in this process); Postgres' share is in its backend, not here.
    print(
        f"{'  CPU of this process per /strategies request':<52} "
        f"{(time.process_time() - cpu) / n * 1e3:.2f} ms"
    )


async def run(alerts: int, n: int) -> None:
    suffix = secrets.token_hex(4)
    settings = LedgerSettings(
        environment=Environment.TEST,
        namespace=f"benchfeed{suffix}",
        database_url=os.environ.get(
            "SPARKY_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
        database_schema=f"bench_feed_{suffix}",
        log_json=False,
    )
    await migrate(settings)
    try:
        started = time.perf_counter()
        await seed(settings, alerts)
        seconds = time.perf_counter() - started
        print(f"{'seeded ' + f'{alerts * 2:,} alerts (3 tenants)':<52} {seconds:.1f} s")
        engine = engine_for(settings)
        transport = httpx.ASGITransport(app=read_app(Reads(engine, settings.reader_role)))
        headers = {"Authorization": f"Bearer {KEY}"}
        try:
            async with httpx.AsyncClient(
                transport=transport, base_url="http://ledger", headers=headers
            ) as http:
                await read_requests(http, n)
        finally:
            await engine.dispose()
    finally:
        conn = await asyncpg.connect(settings.database_url)
        await conn.execute(f'DROP SCHEMA IF EXISTS "{settings.schema_name}" CASCADE')
        await conn.close()


def main() -> None:
    print("== alert feed ==")
    # The machine is shared: say how busy it was, the figures depend on it.
    print("load average (1, 5, 15 min): {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    requests = int(os.environ.get("BENCH_FEED_REQUESTS", "200"))
    asyncio.run(run(alerts=100_000, n=requests))


if __name__ == "__main__":
    main()

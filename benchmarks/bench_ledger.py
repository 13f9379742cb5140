"""Benchmarks of the ledger: projector throughput and read API latency.

Run with ``python -m benchmarks.bench_ledger`` (``make bench``). Prints figures; the ones we
keep are in docs/benchmarks.md. Needs NATS with JetStream at ``SPARKY_NATS_URL`` and Postgres
at ``SPARKY_BENCH_DATABASE_URL`` (default: the test database). Works in a namespace and a
schema of its own, deleted afterwards.

1. Fill events applied per second: N ``order.filled`` events are published first, then a
   projector drains them from the EVENTS stream (fetch, decode, one transaction per batch,
   ack), exactly as in the service.
2. Read API latency for a tenant with 100,000 trades (seeded with COPY, among other tenants'
   trades): the first page, deep pages reached through the cursor, a filtered page,
   positions, and the CSV export of everything.
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
import nats
from fastapi import FastAPI

from libs.common.auth import ApiKeyAuthenticator
from libs.common.config import Environment
from libs.common.ids import ClientOrderId, TenantId, new_id, new_intent_id
from libs.common.jetstream import delete_topology, ensure_topology
from libs.common.messages import Fill, OrderFilled, Side
from libs.common.records import secret_digest
from libs.common.topology import Topology
from services.ledger.api import routes as api
from services.ledger.api.reads import Reads
from services.ledger.config import LedgerSettings
from services.ledger.handlers.projector import Projector
from services.ledger.store.database import engine_for, migrate
from services.ledger.store.mapping import TRADES
from tests import factories

T0 = datetime(2026, 1, 5, tzinfo=UTC)
KEY = "spk_" + "bench" * 6
TENANT = "bench-tenant"


def fill_event(n: int, tenants: int) -> OrderFilled:
    """Return the n-th fill: 2 partial fills per order, buys and sells, many tenants."""
    tenant, order = TenantId(f"t{n % tenants}"), n // 2
    intent = new_intent_id()
    return OrderFilled(
        tenant_id=tenant,
        correlation_id=intent,
        causation_id=intent,
        intent_id=intent,
        client_order_id=ClientOrderId(f"sp{tenant}-{order}"),
        account_label="main",
        exchange_id="binance",
        symbol=("BTC/USDT", "ETH/USDT", "SOL/USDT")[n % 3],
        side=Side.BUY if order % 3 else Side.SELL,
        exchange_order_id=str(order),
        fills=(
            Fill(
                trade_id=f"f{n}",
                price=Decimal(100) + Decimal(n % 97) / 10,
                amount=Decimal("0.01") * (1 + n % 5),
                fee=Decimal("0.001"),
                fee_currency="USDT" if n % 4 else "BNB",
                filled_at=T0 + timedelta(seconds=n),
            ),
        ),
        complete=bool(n % 2),
    )


async def publish_all(js: nats.js.JetStreamContext, topology: Topology, n: int) -> int:
    sem = asyncio.Semaphore(256)
    last = 0

    async def one(event: OrderFilled) -> None:
        nonlocal last
        async with sem:
            subject = topology.event_subject(event.tenant_id, event.kind)
            ack = await js.publish(
                subject, event.to_json(), headers={"Nats-Msg-Id": event.message_id}
            )
            last = max(last, ack.seq)

    await asyncio.gather(*(one(fill_event(i, 500)) for i in range(n)))
    return last


async def projector_throughput(settings: LedgerSettings, n: int) -> None:
    topology = Topology.from_settings(settings)
    nc = await nats.connect(settings.nats_url)
    js = nc.jetstream()
    await ensure_topology(js, topology)
    engine = engine_for(settings)
    try:
        started = time.perf_counter()
        last = await publish_all(js, topology, n)
        published = time.perf_counter() - started
        projector = Projector(settings, engine, nc, topology)
        started = time.perf_counter()
        await projector.rebuild(last, lock_timeout_s=5)
        elapsed = time.perf_counter() - started
        print(f"{'published ' + str(n) + ' order.filled events':<48} {n / published:>10,.0f} /s")
        print(
            f"{'applied by the projector (batch ' + str(settings.batch_size) + ')':<48} "
            f"{n / elapsed:>10,.0f} /s   {elapsed:.2f} s for {n:,}"
        )
    finally:
        await delete_topology(js, topology)
        await nc.close()
        await engine.dispose()


class Ready(dict[str, object]):
    """A dict that satisfies the authenticator's lookup protocol."""

    ready = True
    in_touch = True


def trade_rows(tenant: str, n: int) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for i in range(n):
        message_id = new_id()
        rows.append(
            (
                f"{message_id}-0000",
                tenant,
                ("main", "swing")[i % 2],
                "binance",
                ("BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT")[i % 4],
                ("buy", "sell")[i % 2],
                Decimal(100) + Decimal(i % 1000) / 100,
                Decimal("0.001") * (1 + i % 7),
                Decimal("0.0001"),
                "USDT",
                f"x{i}",
                f"sp{message_id}0",
                str(i),
                message_id,
                T0 + timedelta(seconds=i * 7),
                message_id,
            )
        )
    return rows


TRADE_COLUMNS = TRADES.names  # the ledger's own table definition, not a copy
POSITIONS = (
    "INSERT INTO {schema}.positions SELECT $1, 'main', 'S' || i, 'binance', 'S', 'USDT', i, 100, "
    '5, \'{{"USDT": "0.5"}}\', 3, now(), now() FROM generate_series(1, 50) i'
)


async def seed(settings: LedgerSettings, trades: int) -> None:
    """COPY ``trades`` trades for the tenant and for two neighbours; add 50 positions."""
    schema = settings.schema_name
    conn = await asyncpg.connect(settings.database_url)
    try:
        for tenant in (TENANT, "neighbour-1", "neighbour-2"):
            rows = trade_rows(tenant, trades)
            await conn.copy_records_to_table(
                "trades", records=rows, columns=TRADE_COLUMNS, schema_name=schema
            )
        await conn.execute(POSITIONS.format(schema=schema), TENANT)
        await conn.execute(f"ANALYZE {schema}.trades")
    finally:
        await conn.close()


def read_app(reads: Reads) -> FastAPI:
    app = FastAPI()
    api.install(app)
    app.state.reads = reads
    tenant = factories.tenant_record(TENANT)
    keys: Ready = Ready({secret_digest(KEY): factories.api_key_record(TENANT)})
    app.state.authenticator = ApiKeyAuthenticator(keys, Ready({TENANT: tenant}))  # type: ignore[arg-type]
    return app


def report(label: str, samples: list[float]) -> None:
    cuts = statistics.quantiles(samples, n=100)
    print(
        f"{label:<48} p50 {cuts[49] * 1e3:>6.1f} ms   p99 {cuts[98] * 1e3:>6.1f} ms"
        f"   ({len(samples)} requests)"
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
    """Follow next_cursor for ``pages`` pages of 100; return each page's latency."""
    samples: list[float] = []
    cursor = None
    for _ in range(pages):
        params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
        started = time.perf_counter()
        response = await http.get("/api/v1/trades", params=params)
        samples.append(time.perf_counter() - started)
        cursor = response.json()["next_cursor"]
    return samples


async def export_all(http: httpx.AsyncClient) -> None:
    started = time.perf_counter()
    export = await http.get("/api/v1/trades.csv")
    seconds = time.perf_counter() - started
    rows = export.text.count("\n") - 1
    label = "GET /trades.csv (everything)"
    print(f"{label:<48} {rows:,} rows in {seconds:.2f} s ({rows / seconds:,.0f} rows/s)")


async def read_requests(http: httpx.AsyncClient) -> None:
    await timed(lambda: http.get("/api/v1/trades"), 20)  # warm the pool and the caches
    report("GET /trades (first page of 100)", await timed(lambda: http.get("/api/v1/trades"), 300))
    report("GET /trades?cursor=... (pages 1-300 of 100)", await deep_pages(http, 300))
    symbol = "/api/v1/trades?symbol=ETH/USDT"
    report("GET /trades?symbol=ETH/USDT", await timed(lambda: http.get(symbol), 300))
    nothing = "/api/v1/trades?symbol=ETH/USDT&account=main"  # matches none of the 100,000
    report(
        "GET /trades?symbol=ETH/USDT&account=main (none)",
        await timed(lambda: http.get(nothing), 300),
    )
    report("GET /positions (50 positions)", await timed(lambda: http.get("/api/v1/positions"), 300))
    await export_all(http)


async def read_latency(settings: LedgerSettings, trades: int) -> None:
    await seed(settings, trades)
    engine = engine_for(settings)
    transport = httpx.ASGITransport(app=read_app(Reads(engine, settings.reader_role)))
    headers = {"Authorization": f"Bearer {KEY}"}
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://ledger", headers=headers
        ) as http:
            await read_requests(http)
    finally:
        await engine.dispose()


async def run(n_events: int, n_trades: int) -> None:
    suffix = secrets.token_hex(4)
    settings = LedgerSettings(
        environment=Environment.TEST,
        namespace=f"benchledger{suffix}",
        nats_url=os.environ.get("SPARKY_NATS_URL", "nats://127.0.0.1:4222"),
        database_url=os.environ.get(
            "SPARKY_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
        database_schema=f"bench_ledger_{suffix}",
        log_json=False,
    )
    await migrate(settings)
    try:
        await projector_throughput(settings, n_events)
        await read_latency(settings, n_trades)
    finally:
        conn = await asyncpg.connect(settings.database_url)
        await conn.execute(f'DROP SCHEMA IF EXISTS "{settings.schema_name}" CASCADE')
        await conn.close()


def main() -> None:
    print("== ledger ==")
    # The machine is shared: say how busy it was, the figures depend on it.
    print("load average (1, 5, 15 min): {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    events = int(os.environ.get("BENCH_LEDGER_EVENTS", "30000"))
    asyncio.run(run(n_events=events, n_trades=100_000))


if __name__ == "__main__":
    main()

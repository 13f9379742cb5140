"""Database, KV and timing helpers of the ledger's integration tests."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

import asyncpg
import httpx
from nats.js import JetStreamContext

from libs.common.ids import new_id
from libs.common.records import secret_digest
from libs.common.topology import Topology
from services.ledger.handlers.projector import Projector
from services.ledger.store.mapping import TRADES
from tests import factories
from tests.helpers.polling import eventually

# Tables in the order a snapshot lists them, each with the columns that order its rows.
SNAPSHOT_ORDER = {
    "intents": "tenant_id, intent_id",
    "strategy_daily": "tenant_id, strategy, day, currency",
    "strategy_totals": "tenant_id, strategy, currency",
    "orders": "tenant_id, client_order_id",
    "order_events": "message_id",
    "trades": "id",
    "positions": "tenant_id, account_label, symbol",
    "daily_pnl": "tenant_id, account_label, day, currency",
    "marks": "tenant_id, account_label, symbol",
    "funding": "tenant_id, account_label, funding_id",
    "processed_events": "message_id",
    "poison_events": "stream_seq",
    "projector_state": "stream",
}


async def snapshot(url: str, schema: str) -> dict[str, list[tuple[object, ...]]]:
    """Return every row of every ledger table (as the superuser, so RLS hides nothing).

    Values are compared as text, so ``1.50`` and ``1.5`` would differ: identical means
    identical, scale included. ``poison_events.recorded_at`` (wall-clock) and ``intents.seq``
    (a position in the feed's stream, never reused) are left out.
    """
    conn = await asyncpg.connect(url)
    try:
        tables: dict[str, list[tuple[object, ...]]] = {}
        for table, order in SNAPSHOT_ORDER.items():
            rows = await conn.fetch(f'SELECT * FROM "{schema}".{table} ORDER BY {order}')
            tables[table] = [
                tuple(str(v) for k, v in row.items() if k not in ("recorded_at", "seq"))
                for row in rows
            ]
        return tables
    finally:
        await conn.close()


async def count_rows(url: str, schema: str, table: str, tenant_id: str | None = None) -> int:
    """Count a table's rows as the superuser, for one tenant or all."""
    conn = await asyncpg.connect(url)
    try:
        where = "" if tenant_id is None else " WHERE tenant_id = $1"
        args = () if tenant_id is None else (tenant_id,)
        return int(await conn.fetchval(f'SELECT count(*) FROM "{schema}".{table}{where}', *args))
    finally:
        await conn.close()


async def applied_through(projector: Projector, seq: int, timeout_s: float = 15.0) -> None:
    """Wait until ``projector`` has applied the stream up to ``seq``."""

    await eventually(
        lambda: projector.position >= seq, what=f"the projector at {seq}", timeout_s=timeout_s
    )


async def grant_key(js: JetStreamContext, topology: Topology, tenant_id: str) -> dict[str, str]:
    """Register ``tenant_id`` and an API key of its own in the KV buckets; return the headers."""
    tenants = await js.key_value(topology.tenants_bucket)
    keys = await js.key_value(topology.api_keys_bucket)
    await tenants.put(tenant_id, factories.tenant_record(tenant_id).model_dump_json().encode())
    key = "spk_" + secrets.token_urlsafe(24)
    record = factories.api_key_record(tenant_id)
    await keys.put(secret_digest(key), record.model_dump_json().encode())
    return {"Authorization": f"Bearer {key}"}


TRADE_COLUMNS = TRADES.names  # the ledger's own table definition, not a copy


def trade_record(tenant_id: str, filled_at: datetime, n: int) -> tuple[object, ...]:
    """Return one row of ``trades`` (for seeding many directly, skipping the projector)."""
    message_id = new_id()
    return (
        f"{message_id}-0000",
        tenant_id,
        "main" if n % 2 else "swing",
        "binance",
        "BTC/USDT" if n % 3 else "ETH/USDT",
        "buy" if n % 2 else "sell",
        Decimal("100.5") + n,
        Decimal("0.001"),
        Decimal("0.0001"),
        "USDT",
        f"seed-{n}-{message_id}",
        f"sp{message_id}0",
        str(n),
        message_id,
        filled_at,
        message_id,
    )


async def seed_trades(url: str, schema: str, rows: Iterable[tuple[object, ...]]) -> None:
    """Copy trade rows straight into the table (as the superuser)."""
    conn = await asyncpg.connect(url)
    try:
        await conn.copy_records_to_table(
            "trades", records=list(rows), columns=TRADE_COLUMNS, schema_name=schema
        )
    finally:
        await conn.close()


Headers = dict[str, str]


async def key_for(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology, tenant: str
) -> Headers:
    """Give ``tenant`` an API key; return its headers once the API accepts them."""
    headers = await grant_key(js, topology, tenant)

    async def accepted() -> bool:
        return (await client.get("/api/v1/positions", headers=headers)).status_code == 200

    await eventually(accepted, what="the API accepting the key", timeout_s=5)
    return headers

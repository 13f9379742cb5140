"""Tenant isolation of the executor's tables is Postgres' doing (Row-Level Security).

The tests connect as the superuser ``postgres``, which bypasses RLS: what is proven here is
that the service switches to roles that cannot (the API role per request, the writer for the
order path) and what those roles can see and do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import asyncpg
import httpx
import pytest
from nats.js import JetStreamContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.db import connect_as, make_engine, upgrade
from libs.common.topology import Topology
from services.executor.accounts.store import AccountStore
from services.executor.config import ExecutorSettings, executor_settings
from services.executor.runtime import MIGRATIONS, Runtime
from tests.helpers.executor import seed_tenant
from tests.helpers.namespaces import PgSchema
from tests.helpers.rls import column, forced_rls, run_each

DEFAULTS = executor_settings()
API, WRITER = DEFAULTS.api_role, DEFAULTS.writer_role
TENANTS = ("tenant-a", "tenant-b")
_ACCOUNT = (
    "INSERT INTO {schema}.accounts (tenant_id, label, exchange_id, mode, market_type, status, "
    "keys_updated_at, created_at, updated_at) "
    "VALUES ($1, $2, 'binance', 'paper', 'spot', 'valid', now(), now(), now())"
)
_ORDER = (
    "INSERT INTO {schema}.orders (client_order_id, tenant_id, partition, intent_id, "
    "place_order_id, account_label, exchange_id, mode, symbol, side, order_type, state, "
    "received_at, created_at, updated_at) VALUES ($1, $2, 0, 'i', 'p', 'main', 'binance', "
    "'paper', 'BTC/USDT', 'buy', 'market', 'pending', now(), now(), now())"
)


async def _seed(pg_schema: PgSchema) -> None:
    conn = await asyncpg.connect(pg_schema.url)
    try:
        for tenant in TENANTS:
            for label in ("main", f"{tenant}-only"):
                await conn.execute(_ACCOUNT.format(schema=pg_schema.name), tenant, label)
            await conn.execute(_ORDER.format(schema=pg_schema.name), f"{tenant}-order", tenant)
    finally:
        await conn.close()


@pytest.fixture
async def engine(pg_schema: PgSchema) -> AsyncIterator[AsyncEngine]:
    """The executor's schema with two tenants' rows; an engine acting as the writer."""
    await upgrade(MIGRATIONS, pg_schema.url, pg_schema.name)
    await _seed(pg_schema)
    found = make_engine(pg_schema.url, pg_schema.name, pool_size=2)
    connect_as(found, WRITER)
    yield found
    await found.dispose()


@pytest.fixture
def store(engine: AsyncEngine) -> AccountStore:
    return AccountStore(engine, API)


async def test_a_tenant_request_without_any_tenant_filter_sees_only_its_accounts(
    store: AccountStore,
) -> None:
    async with store.as_tenant("tenant-a") as conn:
        seen = await column(conn, "SELECT tenant_id FROM accounts")
        listed = await store.visible(conn)
        counted = await store.count(conn)
    assert seen == ["tenant-a", "tenant-a"]
    assert [(a.tenant_id, a.label) for a in listed] == [
        ("tenant-a", "main"),
        ("tenant-a", "tenant-a-only"),
    ]
    assert counted == 2


async def test_the_api_role_without_a_tenant_sees_nothing(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(f'SET LOCAL ROLE "{API}"'))
        assert await column(conn, "SELECT label FROM accounts") == []


async def test_another_tenants_accounts_cannot_be_changed_or_removed(
    store: AccountStore, engine: AsyncEngine
) -> None:
    async with store.as_tenant("tenant-a") as conn:
        moved = await conn.execute(text("UPDATE accounts SET status = 'invalid'"))
        removed = await conn.execute(text("DELETE FROM accounts WHERE label = 'tenant-b-only'"))
    assert (moved.rowcount, removed.rowcount) == (2, 0)
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT tenant_id, status FROM accounts ORDER BY 1"))
        seen = sorted({tuple(row) for row in rows})
    assert seen == [("tenant-a", "invalid"), ("tenant-b", "valid")]


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO accounts (tenant_id, label, exchange_id, mode, market_type, status, "
        "keys_updated_at, created_at, updated_at) "
        "VALUES ('tenant-b', 'planted', 'binance', 'paper', 'spot', 'valid', now(), now(), now())",
        "UPDATE accounts SET tenant_id = 'tenant-b'",
        "SELECT * FROM orders",
        "SET LOCAL row_security = off; SELECT * FROM accounts",
    ],
)
async def test_the_api_role_can_neither_write_for_another_tenant_nor_step_around_rls(
    store: AccountStore, statement: str
) -> None:
    async def attempt() -> None:
        async with store.as_tenant("tenant-a") as conn:
            await run_each(conn, statement)

    with pytest.raises(DBAPIError):
        await attempt()


async def test_the_order_path_sees_every_tenant_but_cannot_change_accounts(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as conn:
        assert await column(conn, "SELECT current_user") == [WRITER]
        orders = await column(conn, "SELECT tenant_id FROM orders ORDER BY 1")
        accounts = await column(conn, "SELECT DISTINCT tenant_id FROM accounts ORDER BY 1")
    assert orders == list(TENANTS)
    assert accounts == list(TENANTS)
    for statement in ("UPDATE accounts SET status = 'invalid'", "DELETE FROM orders"):
        with pytest.raises(DBAPIError):
            async with engine.begin() as conn:
                await conn.execute(text(statement))


async def test_the_tables_force_rls_and_the_roles_cannot_bypass_it(
    engine: AsyncEngine, pg_schema: PgSchema
) -> None:
    forced, roles = await forced_rls(pg_schema.url, pg_schema.name, [API, WRITER])
    assert forced == {"accounts", "orders", "positions"}
    assert sorted(roles) == [
        (API, False, False, False),
        (WRITER, False, False, False),
    ]


async def test_a_database_of_the_previous_version_keeps_its_rows_and_gains_rls(
    pg_schema: PgSchema,
) -> None:
    await upgrade(MIGRATIONS, pg_schema.url, pg_schema.name, revision="0001")
    await _seed(pg_schema)
    await upgrade(MIGRATIONS, pg_schema.url, pg_schema.name)
    engine = make_engine(pg_schema.url, pg_schema.name, pool_size=1)
    try:
        async with AccountStore(engine, API).as_tenant("tenant-b") as conn:
            assert await column(conn, "SELECT label FROM accounts ORDER BY 1") == [
                "main",
                "tenant-b-only",
            ]
    finally:
        await engine.dispose()


_FILLED = (
    "INSERT INTO {schema}.orders (client_order_id, tenant_id, partition, intent_id, "
    "place_order_id, account_label, exchange_id, mode, symbol, side, order_type, state, filled, "
    "received_at, created_at, updated_at) VALUES ($1, 'tenant-a', 0, 'i', 'p', 'main', "
    "'binance', 'paper', $2, $3, 'market', $4, $5, now(), now(), now())"
)


async def test_an_upgrade_fills_in_strategy_positions_and_renames_unknown_orders(
    pg_schema: PgSchema,
) -> None:
    await upgrade(MIGRATIONS, pg_schema.url, pg_schema.name, revision="0002")
    conn = await asyncpg.connect(pg_schema.url)
    try:
        rows = [
            ("o1", "BTC/USDT", "buy", "filled", "0.3"),
            ("o2", "BTC/USDT", "sell", "filled", "0.1"),
            ("o3", "ETH/USDT", "buy", "filled", "1"),
            ("o4", "ETH/USDT", "sell", "filled", "2"),  # the old close sold the whole wallet
            ("o5", "XRP/USDT", "buy", "unknown", "0"),
        ]
        for row in rows:
            await conn.execute(_FILLED.format(schema=pg_schema.name), *row[:4], Decimal(row[4]))
        await upgrade(MIGRATIONS, pg_schema.url, pg_schema.name)
        held = await conn.fetch(
            f"SELECT symbol, quantity FROM {pg_schema.name}.positions ORDER BY symbol"
        )
        states = await conn.fetch(f"SELECT state FROM {pg_schema.name}.orders WHERE filled = 0")
    finally:
        await conn.close()
    assert [(r["symbol"], r["quantity"]) for r in held] == [("BTC/USDT", Decimal("0.2"))]
    assert [r["state"] for r in states] == ["uncertain"]


async def test_the_api_lists_only_the_callers_accounts(
    http: httpx.AsyncClient,
    js: JetStreamContext,
    topology: Topology,
    runtime: Runtime,
    settings: ExecutorSettings,
) -> None:
    keys = {
        t: await seed_tenant(js, topology, t, api=http, max_exchange_accounts=2) for t in TENANTS
    }
    for tenant, key in keys.items():
        for label in ("main", f"{tenant}-only"):
            body = {"label": label, "exchange_id": "binance", "mode": "paper", "validate": False}
            body |= {"api_key": f"k-{tenant}", "secret": f"s-{tenant}"}
            added = await http.post("/api/v1/exchange-accounts", json=body, headers=_auth(key))
            assert added.status_code == 201, added.text

    listed = await http.get("/api/v1/exchange-accounts", headers=_auth(keys["tenant-a"]))
    assert [a["label"] for a in listed.json()["accounts"]] == ["main", "tenant-a-only"]
    foreign = await http.get(
        "/api/v1/exchange-accounts/tenant-b-only", headers=_auth(keys["tenant-a"])
    )
    assert foreign.status_code == 404
    async with runtime.engine.connect() as conn:
        assert await column(conn, "SELECT current_user") == [settings.writer_role]


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}

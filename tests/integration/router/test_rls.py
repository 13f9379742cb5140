"""The router's own store is held to row-level security: it switches to roles that cannot
bypass it, even though the tests (like a careless deployment) connect as a superuser.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from libs.common.db import make_engine, upgrade
from services.router.config import READER_ROLE, WRITER_ROLE
from services.router.store.records import LayerKey
from services.router.store.settings import SettingsStore
from services.router.store.tables import MIGRATIONS
from tests import factories
from tests.helpers.namespaces import PgSchema
from tests.helpers.rls import column, run_each
from tests.helpers.router import Bus, layer
from tests.integration.router.harness import API_KEY, ApiOpener

T0 = datetime(2026, 1, 7, tzinfo=UTC)
TENANTS = ("tenant-a", "tenant-b")
TABLES = ("trade_settings", "trade_settings_history")


async def _store_of(pg_schema: PgSchema) -> AsyncIterator[SettingsStore]:
    engine = make_engine(pg_schema.url, pg_schema.name, pool_size=2)
    try:
        yield SettingsStore(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def store(pg_schema: PgSchema) -> AsyncIterator[SettingsStore]:
    """The router's schema with a tenant-wide and an account layer for each of two tenants."""
    await upgrade(MIGRATIONS, pg_schema.url, pg_schema.name)
    async for found in _store_of(pg_schema):
        for tenant in TENANTS:
            for key in (LayerKey.tenant(), LayerKey.account("main")):
                await found.put(tenant, key, layer(quantity=1), by=tenant, now=T0)
        yield found


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("write", [False, True])
async def test_a_query_without_any_tenant_filter_returns_only_the_tenants_rows(
    store: SettingsStore, table: str, *, write: bool
) -> None:
    async with store.as_tenant("tenant-a", write=write) as conn:
        seen = await column(conn, f"SELECT tenant_id FROM {table}")
    assert seen == ["tenant-a", "tenant-a"]


async def test_the_stores_reads_show_one_tenant(store: SettingsStore) -> None:
    layers = await store.layers("tenant-b")
    history = await store.history("tenant-b")
    assert sorted(lay.key.account_label for lay in layers) == ["", "main"]
    assert {change.changed_by for change in history} == {"tenant-b"}


async def test_the_reader_role_without_a_tenant_sees_nothing(store: SettingsStore) -> None:
    async with store.as_tenant("tenant-a") as conn:
        await conn.execute(text("SELECT set_config('sparky.tenant_id', '', true)"))
        assert await column(conn, "SELECT tenant_id FROM trade_settings") == []


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM trade_settings",
        "UPDATE trade_settings SET version = 99",
        "INSERT INTO trade_settings_history (tenant_id, scope, account_label, symbol, version, "
        "changed_at, changed_by) VALUES ('tenant-a', 'tenant', '', '', 9, now(), 'x')",
        "SET LOCAL row_security = off; SELECT * FROM trade_settings",
    ],
)
async def test_the_reader_role_can_neither_write_nor_step_around_the_policies(
    store: SettingsStore, statement: str
) -> None:
    async def attempt() -> None:
        async with store.as_tenant("tenant-a") as conn:
            await run_each(conn, statement)

    with pytest.raises(DBAPIError):
        await attempt()


async def test_the_writer_changes_its_tenants_rows_only(store: SettingsStore) -> None:
    async with store.as_tenant("tenant-a", write=True) as conn:
        changed = await conn.execute(text("UPDATE trade_settings SET version = 7"))
        removed = await conn.execute(
            text("DELETE FROM trade_settings WHERE tenant_id = 'tenant-b'")
        )
    assert (changed.rowcount, removed.rowcount) == (2, 0)
    with pytest.raises(DBAPIError):
        async with store.as_tenant("tenant-a", write=True) as conn:
            await conn.execute(text("UPDATE trade_settings SET tenant_id = 'tenant-b'"))
    assert {lay.version for lay in await store.layers("tenant-b")} == {1}


async def test_the_roles_cannot_log_in_nor_bypass_rls(store: SettingsStore) -> None:
    async with store.as_tenant("tenant-a") as conn:
        rows = await conn.execute(
            text(
                "SELECT rolname, rolbypassrls, rolsuper, rolcanlogin FROM pg_roles "
                "WHERE rolname IN (:reader, :writer) ORDER BY rolname"
            ),
            {"reader": READER_ROLE, "writer": WRITER_ROLE},
        )
        assert [tuple(row) for row in rows] == [
            (READER_ROLE, False, False, False),
            (WRITER_ROLE, False, False, False),
        ]


async def test_a_database_of_the_previous_version_keeps_its_rows_and_gains_the_roles(
    pg_schema: PgSchema,
) -> None:
    await upgrade(MIGRATIONS, pg_schema.url, pg_schema.name, revision="0001")
    conn = await asyncpg.connect(pg_schema.url)
    try:
        for tenant in TENANTS:
            await conn.execute(
                f'INSERT INTO "{pg_schema.name}".trade_settings VALUES '
                "($1, '', '', 'tenant', '{}', 1, now(), 'k')",
                tenant,
            )
    finally:
        await conn.close()
    await upgrade(MIGRATIONS, pg_schema.url, pg_schema.name)
    async for store in _store_of(pg_schema):
        assert [lay.key.scope for lay in await store.layers("tenant-a")] == ["tenant"]
        await store.put("tenant-a", LayerKey.account("main"), layer(quantity=2), by="k", now=T0)
        assert len(await store.layers("tenant-a")) == 2


async def test_the_api_shows_the_caller_its_own_layers_only(open_api: ApiOpener, bus: Bus) -> None:
    await bus.put_tenant(factories.tenant_record("tenant-a"))
    await bus.put_api_key(API_KEY, factories.api_key_record("tenant-a"))
    api = await open_api()
    for tenant in TENANTS:
        await api.runtime.store.put(
            tenant, LayerKey.account(tenant), layer(quantity=1), by=tenant, now=T0
        )
    overview = (await api.client.get("/api/v1/settings")).json()
    history = (await api.client.get("/api/v1/settings/history")).json()
    assert [lay["account_label"] for lay in overview["layers"]] == ["tenant-a"]
    assert [change["changed_by"] for change in history] == ["tenant-a"]

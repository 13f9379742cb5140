"""Trade settings in Postgres: row-level security keeps each tenant to its own rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from libs.common.db import make_engine, upgrade
from services.router.store.records import LayerKey
from services.router.store.settings import SettingsStore
from services.router.store.tables import MIGRATIONS
from tests.helpers.namespaces import PgSchema
from tests.helpers.router import layer

T0 = datetime(2026, 1, 7, tzinfo=UTC)


@pytest.fixture
async def store(pg_schema: PgSchema) -> AsyncIterator[SettingsStore]:
    await upgrade(MIGRATIONS, pg_schema.url, pg_schema.name)
    engine = make_engine(pg_schema.url, pg_schema.name, pool_size=2)
    yield SettingsStore(engine)
    await engine.dispose()


@pytest.fixture
async def app_role(pg_schema: PgSchema, store: SettingsStore) -> AsyncIterator[str]:
    """A role like production's: no superuser, no BYPASSRLS, plain grants on the tables."""
    role, schema = f"{pg_schema.name}_app", pg_schema.name
    conn = await asyncpg.connect(pg_schema.url)
    try:
        await conn.execute(f'CREATE ROLE "{role}" NOLOGIN NOBYPASSRLS')
        await conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
        await conn.execute(
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"'
        )
        yield role
    finally:
        await conn.execute(f'DROP OWNED BY "{role}"')
        await conn.execute(f'DROP ROLE IF EXISTS "{role}"')
        await conn.close()


async def test_a_tenant_sees_and_writes_only_its_own_settings(
    store: SettingsStore, app_role: str, pg_schema: PgSchema
) -> None:
    for tenant in ("tenant-a", "tenant-b"):
        await store.put(tenant, LayerKey.tenant(), layer(quantity=1), by="k", now=T0)
    conn = await asyncpg.connect(pg_schema.url)
    try:
        async with conn.transaction():
            await conn.execute(f'SET LOCAL ROLE "{app_role}"')
            await conn.execute(f'SET LOCAL search_path TO "{pg_schema.name}"')
            assert await conn.fetch("SELECT tenant_id FROM trade_settings") == []
            await conn.execute("SELECT set_config('sparky.tenant_id', 'tenant-a', true)")
            rows = await conn.fetch("SELECT DISTINCT tenant_id FROM trade_settings_history")
            assert [r["tenant_id"] for r in rows] == ["tenant-a"]
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(
                    "INSERT INTO trade_settings VALUES "
                    "('tenant-b', 'x', '', 'account', '{}', 1, now(), 'k')"
                )
    finally:
        await conn.close()


async def test_what_was_in_force_at_a_past_time_is_rebuilt_from_the_history(
    store: SettingsStore,
) -> None:
    later = T0.replace(hour=12)
    key = LayerKey.for_symbol("main", "btcusdt")
    await store.put("tenant-a", key, layer(leverage=2), by="k1", now=T0)
    await store.put("tenant-a", key, layer(leverage=5), by="k2", now=later)
    await store.delete("tenant-a", key, by="k3", now=later.replace(hour=18))
    assert (await store.as_of("tenant-a", T0.replace(hour=6))).symbols == {
        ("main", "BTCUSDT"): layer(leverage=2)
    }
    assert (await store.as_of("tenant-a", later)).symbols[("main", "BTCUSDT")] == layer(leverage=5)
    assert (await store.as_of("tenant-a", later.replace(hour=20))).symbols == {}
    assert [c.changed_by for c in await store.history("tenant-a", key)] == ["k3", "k2", "k1"]
    assert (await store.as_of("tenant-b", later)).symbols == {}

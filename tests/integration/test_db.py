"""Migrations land in the service's own schema, once, however often they run."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.db import database_unavailable, main, make_engine, upgrade
from services.router.store.tables import MIGRATIONS as ROUTER_MIGRATIONS
from tests.helpers.namespaces import PgSchema
from tests.helpers.polling import eventually
from tests.helpers.private_postgres import PrivatePostgres, private_postgres

DEMO = Path(__file__).parent / "fixtures" / "demo_migrations"


async def test_migrations_create_tables_and_version_in_the_schema(pg_schema: PgSchema) -> None:
    await upgrade(DEMO, pg_schema.url, pg_schema.name)
    await upgrade(DEMO, pg_schema.url, pg_schema.name)  # a second run changes nothing
    conn = await asyncpg.connect(pg_schema.url)
    try:
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 "
            "ORDER BY table_name",
            pg_schema.name,
        )
        version = await conn.fetchval(f'SELECT version_num FROM "{pg_schema.name}".alembic_version')
    finally:
        await conn.close()
    assert [t["table_name"] for t in tables] == ["alembic_version", "widgets"]
    assert version == "0001"


async def test_the_migration_command_grants_to_the_roles_it_is_given(pg_schema: PgSchema) -> None:
    reader, writer = f"{pg_schema.name}_router_reader", f"{pg_schema.name}_router_writer"
    args = [str(ROUTER_MIGRATIONS), pg_schema.url, pg_schema.name]
    await asyncio.to_thread(main, [*args, f"reader_role={reader}", f"writer_role={writer}"])
    conn = await asyncpg.connect(pg_schema.url)
    try:
        table = f"{pg_schema.name}.trade_settings"
        rights = [
            await conn.fetchval("SELECT has_table_privilege($1, $2, $3)", role, table, right)
            for role, right in ((reader, "SELECT"), (reader, "UPDATE"), (writer, "UPDATE"))
        ]
    finally:
        await conn.close()
    assert rights == [True, False, True]


async def test_replicas_migrating_at_once_do_not_collide(pg_schema: PgSchema) -> None:
    async def replica() -> int:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "libs.common.db", str(DEMO), pg_schema.url, pg_schema.name
        )
        return await proc.wait()

    assert await asyncio.gather(*(replica() for _ in range(3))) == [0, 0, 0]
    engine = make_engine(pg_schema.url, pg_schema.name)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM widgets"))).scalar() == 0
    finally:
        await engine.dispose()


async def _select_one(engine: AsyncEngine, statement: str = "SELECT 1") -> int:
    """Run ``statement`` as the order path runs its writes: outside a transaction."""
    async with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
        return int((await conn.execute(text(statement))).scalar_one())


def _logged_statements(postgres: PrivatePostgres, begin: str, end: str) -> list[str]:
    """Return the statements Postgres logged between the markers ``begin`` and ``end``."""
    lines = postgres.log_path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if begin in line)
    stop = next(i for i, line in enumerate(lines) if end in line)
    return [line for line in lines[start + 1 : stop] if "statement:" in line or "execute" in line]


async def test_a_statement_on_a_pooled_connection_costs_one_round_trip() -> None:
    with private_postgres() as postgres:
        admin = await asyncpg.connect(postgres.url)
        try:
            await admin.execute("ALTER SYSTEM SET log_statement = 'all'")
            await admin.execute("SELECT pg_reload_conf()")
        finally:
            await admin.close()
        engine = make_engine(postgres.url, "public", pool_size=2)
        try:
            await eventually(  # the reload reached the pooled backend
                lambda: _select_one(
                    engine, "SELECT (current_setting('log_statement') = 'all')::int"
                ),
                what="log_statement = 'all' on the pooled connection",
            )
            await _select_one(engine, "SELECT length('round-trips-begin')")
            for _ in range(5):
                await _select_one(engine)
            await _select_one(engine, "SELECT length('round-trips-end')")
        finally:
            await engine.dispose()
        logged = _logged_statements(postgres, "round-trips-begin", "round-trips-end")
    # Five statements, five round trips: no BEGIN / ping / ROLLBACK around each checkout.
    assert len([s for s in logged if "SELECT 1" in s]) == 5, logged
    assert not [s for s in logged if "SELECT 1" not in s], logged


async def test_connections_dropped_by_a_postgres_restart_fail_once_as_an_outage_then_recover() -> (
    None
):
    with private_postgres() as postgres:
        engine = make_engine(postgres.url, "public", pool_size=3)
        try:
            await asyncio.gather(*(_select_one(engine) for _ in range(3)))  # 3 pooled
            await asyncio.to_thread(postgres.stop, "fast")
            await asyncio.to_thread(postgres.start)
            with pytest.raises(DBAPIError) as stale:
                await _select_one(engine)
            # Retried by the consumers, answered 503 by the APIs: never a bug's 500.
            assert database_unavailable(stale.value)
            # The dead connections are gone from the pool, all of them at once.
            assert await asyncio.gather(*(_select_one(engine) for _ in range(3))) == [1, 1, 1]
        finally:
            await engine.dispose()

"""Migrations land in the service's own schema, once, however often they run."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import asyncpg
from sqlalchemy import text

from libs.common.db import make_engine, upgrade
from tests.helpers.namespaces import PgSchema

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

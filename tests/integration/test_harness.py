"""The harness gives each test a place of its own on the shared servers."""

from __future__ import annotations

import asyncpg
import redis.asyncio as aioredis

from tests.helpers.namespaces import PgSchema


async def test_each_test_gets_an_empty_schema_of_its_own(pg_schema: PgSchema) -> None:
    conn = await asyncpg.connect(pg_schema.url)
    try:
        tables = await conn.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1",
            pg_schema.name,
        )
        assert tables == 0
        await conn.execute(f'CREATE TABLE "{pg_schema.name}".t (id int)')
        assert await conn.fetchval(f'SELECT count(*) FROM "{pg_schema.name}".t') == 0
    finally:
        await conn.close()


async def test_redis_keys_live_under_the_test_namespace(
    redis_client: aioredis.Redis, namespace: str
) -> None:
    key = f"{namespace}:quota:tenant-a"
    assert await redis_client.incr(key) == 1  # a fresh namespace starts every counter at zero
    assert await redis_client.get(key) == b"1"

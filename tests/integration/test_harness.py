"""The harness gives each test a place of its own on the shared servers."""

from __future__ import annotations

import asyncpg
import redis.asyncio as aioredis

from tests.helpers.namespaces import PgSchema, drop_schema, new_namespace
from tests.helpers.polling import eventually
from tests.helpers.servers import ServerUrls


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


async def test_a_schema_still_locked_by_a_forgotten_transaction_is_dropped_anyway(
    server_urls: ServerUrls,
) -> None:
    name = new_namespace()
    forgotten = await asyncpg.connect(server_urls.postgres)
    dropper = await asyncpg.connect(server_urls.postgres)
    pid = forgotten.get_server_pid()
    try:
        await forgotten.execute(f'CREATE SCHEMA "{name}"; CREATE TABLE "{name}".t (n int)')
        await forgotten.execute(f'BEGIN; INSERT INTO "{name}".t VALUES (1)')  # left open

        await drop_schema(dropper, name)

        gone = await dropper.fetchval("SELECT count(*) FROM pg_namespace WHERE nspname = $1", name)
        assert gone == 0
        alive = "SELECT count(*) FROM pg_stat_activity WHERE pid = $1"
        await eventually(  # the ended backend leaves pg_stat_activity as it exits
            lambda: dropper.fetchval(alive, pid),
            until=lambda count: count == 0,
            what="the forgotten backend gone",
            timeout_s=5,
        )
    finally:
        await dropper.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        await dropper.close()
        forgotten.terminate()

"""One namespace per test: NATS streams and buckets, a Postgres schema, a Redis key prefix."""

from __future__ import annotations

import contextlib
import logging
import secrets
import string
import time
from dataclasses import dataclass

import asyncpg
import nats
from nats.js.errors import NotFoundError

from libs.common.jetstream import delete_topology
from libs.common.topology import Topology

log = logging.getLogger(__name__)

TEST_PREFIX = "pt"
_ALPHABET = string.ascii_lowercase + string.digits
STALE_AFTER_S = 3600.0


def new_namespace() -> str:
    """Return a fresh namespace such as ``pt5k2m9x0q1az``: valid for NATS, Postgres and Redis."""
    return TEST_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(11))


@dataclass(frozen=True)
class PgSchema:
    """A schema of its own for one test, dropped afterwards."""

    url: str
    name: str


async def sweep_stale_test_streams(nats_url: str) -> int:
    """Delete streams left by test runs that died more than an hour ago; return how many."""
    nc = await nats.connect(nats_url, connect_timeout=5)
    removed = 0
    try:
        js = nc.jetstream()
        now = time.time()
        for info in await js.streams_info():
            name = info.config.name or ""
            bucket = name.removeprefix("KV_")
            created = info.created.timestamp() if info.created else now
            if bucket.startswith(TEST_PREFIX) and now - created > STALE_AFTER_S:
                try:
                    await js.delete_stream(name)
                    removed += 1
                except NotFoundError:
                    pass
    finally:
        await nc.close()
    return removed


async def drop_namespace_streams(nats_url: str, topology: Topology) -> None:
    """Delete every stream and bucket of a test's namespace: the shared topology and any a
    service made for itself (the router's settings bucket, say), found by their prefix.
    """
    nc = await nats.connect(nats_url, connect_timeout=5)
    try:
        js = nc.jetstream()
        await delete_topology(js, topology)
        prefix = f"{topology.namespace}_"
        for info in await js.streams_info():
            name = info.config.name or ""
            if name.removeprefix("KV_").startswith(prefix):
                with contextlib.suppress(NotFoundError):
                    await js.delete_stream(name)
    finally:
        await nc.close()


_LOCK_HOLDERS = """
SELECT DISTINCT l.pid FROM pg_locks l
JOIN pg_class c ON c.oid = l.relation
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND l.granted AND l.pid <> pg_backend_pid()
"""


async def drop_schema(conn: asyncpg.Connection, name: str, *, attempts: int = 5) -> None:
    """Drop a test's schema and everything in it, without waiting forever on a lock.

    An app run in the test's own process and stopped mid-transaction (a background job
    cancelled at shutdown) can leave a connection that still holds a lock in the schema; a
    process would have closed it on exit, a test process lives on. Such a connection is
    ended (and logged) rather than left to block ``DROP SCHEMA`` until the test times out.
    """
    await conn.execute("SET lock_timeout = '5s'")
    for _ in range(attempts):
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        except asyncpg.exceptions.LockNotAvailableError:
            holders = [row["pid"] for row in await conn.fetch(_LOCK_HOLDERS, name)]
            log.warning("schema %s locked by backends %s left open; ending them", name, holders)
            for pid in holders:
                await conn.execute("SELECT pg_terminate_backend($1)", pid)
        else:
            return
    raise RuntimeError(f"schema {name} could not be dropped: still locked")

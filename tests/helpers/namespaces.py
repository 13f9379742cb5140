"""One namespace per test: NATS streams and buckets, a Postgres schema, a Redis key prefix."""

from __future__ import annotations

import contextlib
import secrets
import string
import time
from dataclasses import dataclass

import nats
from nats.js.errors import NotFoundError

from libs.common.jetstream import delete_topology
from libs.common.topology import Topology

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

"""Fixtures shared by every test: real servers, one namespace per test.

Postgres, Redis and NATS are the machine's own (URLs from ``SPARKY_TEST_*_URL``, defaulting to
the standard local ports), or containers when ``SPARKY_TEST_CONTAINERS=1`` and Docker runs.
Vault is OpenBao's dev server, started once per session on a free port when a test asks.
Helpers live in ``tests/helpers``; factories in ``tests/factories.py``.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import nats
import pytest
import redis.asyncio as aioredis
from nats.aio.client import Client
from nats.js import JetStreamContext

from libs.common.jetstream import ensure_topology
from libs.common.topology import Topology
from tests.helpers.db_logins import drop_roles_of
from tests.helpers.namespaces import (
    PgSchema,
    drop_namespace_streams,
    drop_schema,
    new_namespace,
    sweep_stale_test_streams,
)
from tests.helpers.servers import ServerUrls, container_urls, containers_requested, urls_from_env
from tests.helpers.vault import VaultServer, vault_dev_server

_TIERS = ("unit", "integration", "e2e")


ASYNC_TEST_DEADLINE_S = 240.0
"""An async test still running after this long is cancelled and fails on its own.

pytest-timeout's signal can land inside asyncio's scheduler and wedge the loop (the test then
hangs until CI's deadline), so async tests get a deadline of asyncio's own; pytest-timeout
(300 s, thread method: stacks of every thread, then the run ends) stays as the last resort
for sync tests and for teardowns that hang. A test marked ``@pytest.mark.timeout(n)`` (a long
burst, say) gets ``n`` less a margin instead, so pytest-timeout still comes second.
"""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test by its folder, so ``-m unit`` selects what a reader expects; give every
    async test its deadline.
    """
    for item in items:
        parts = Path(str(item.fspath)).parts
        for tier in _TIERS:
            if tier in parts and not item.get_closest_marker(tier):
                item.add_marker(getattr(pytest.mark, tier))
        if isinstance(item, pytest.Function) and inspect.iscoroutinefunction(item.obj):
            item.obj = _with_deadline(item.obj, _deadline_of(item))


def _deadline_of(item: pytest.Item) -> float:
    marker = item.get_closest_marker("timeout")
    if marker is None or not marker.args:
        return ASYNC_TEST_DEADLINE_S
    return max(ASYNC_TEST_DEADLINE_S, float(marker.args[0]) - 60.0)


def _with_deadline(
    test: Callable[..., Coroutine[Any, Any, None]], seconds: float
) -> Callable[..., Coroutine[Any, Any, None]]:
    @functools.wraps(test)
    async def run(*args: Any, **kwargs: Any) -> None:
        deadline = asyncio.timeout(seconds)
        try:
            async with deadline:
                await test(*args, **kwargs)
        except TimeoutError:
            if deadline.expired():
                pytest.fail(f"still running after {seconds:.0f} s: cancelled")
            raise

    return run


@pytest.fixture(scope="session")
def server_urls() -> Iterator[ServerUrls]:
    """URLs of the real NATS, Redis and Postgres servers."""
    if containers_requested():
        with container_urls() as urls:
            yield urls
    else:
        yield urls_from_env()


@pytest.fixture(scope="session")
def vault() -> Iterator[VaultServer]:
    """A real Vault API: OpenBao's dev server on a free port, for the whole session."""
    with vault_dev_server() as server:
        yield server


@pytest.fixture
def namespace() -> str:
    """A namespace of this test's own."""
    return new_namespace()


@pytest.fixture
def topology(namespace: str) -> Topology:
    """The test's NATS names (16 partitions, 60 s duplicate window, as in production)."""
    return Topology(namespace=namespace, partitions=16)


@pytest.fixture(scope="session")
def _swept(server_urls: ServerUrls) -> None:
    asyncio.run(sweep_stale_test_streams(server_urls.nats))


@pytest.fixture
async def nc(server_urls: ServerUrls) -> AsyncIterator[Client]:
    """A NATS connection, closed after the test."""
    client = await nats.connect(server_urls.nats, connect_timeout=5)
    yield client
    await client.close()


@pytest.fixture
async def js(
    nc: Client, topology: Topology, server_urls: ServerUrls, _swept: None
) -> AsyncIterator[JetStreamContext]:
    """JetStream with the test's streams and buckets created; all deleted afterwards."""
    context = nc.jetstream()
    await ensure_topology(context, topology)
    yield context
    await drop_namespace_streams(server_urls.nats, topology)


@pytest.fixture
async def pg_schema(server_urls: ServerUrls, namespace: str) -> AsyncIterator[PgSchema]:
    """A Postgres schema of the test's own, dropped with everything in it (and the roles
    named after it) afterwards.
    """
    conn = await asyncpg.connect(server_urls.postgres)
    try:
        await conn.execute(f'CREATE SCHEMA "{namespace}"')
        yield PgSchema(url=server_urls.postgres, name=namespace)
    finally:
        await drop_schema(conn, namespace)
        # Services configured with the test's namespace made roles prefixed by it.
        await drop_roles_of(conn, namespace)
        await conn.close()


@pytest.fixture
async def redis_client(server_urls: ServerUrls, namespace: str) -> AsyncIterator[aioredis.Redis]:
    """A Redis client; every key under ``<namespace>:`` is deleted afterwards."""
    client = aioredis.Redis.from_url(server_urls.redis)
    yield client
    keys = [key async for key in client.scan_iter(match=f"{namespace}:*", count=500)]
    if keys:
        await client.delete(*keys)
    await client.aclose()

"""The whole stack as processes, in a test's own namespace, on free ports."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import redis.asyncio as aioredis

from libs.common.topology import Topology
from scripts.devstack import DEFAULT_PORTS, SERVICES, Infra, Stack, StackConfig
from tests.helpers.db_logins import drop_roles_of
from tests.helpers.namespaces import drop_namespace_streams, drop_schema
from tests.helpers.ports import free_ports
from tests.helpers.servers import ServerUrls
from tests.helpers.vault import VaultServer

DATABASE_SERVICES = ("billing", "router", "executor", "ledger")


# Small pools: several stacks (and the rest of the suite) share one Postgres of 100 connections.
TEST_POOL_SIZE = "3"


def stack_config(
    urls: ServerUrls,
    vault: VaultServer,
    namespace: str,
    data_dir: Path,
    extra_env: Mapping[str, Mapping[str, str]] | None = None,
) -> StackConfig:
    """Return a stack configuration isolated in ``namespace``; ``extra_env`` adds settings per
    service (``{"executor": {"CLIENT_POOL_SIZE": "1100"}}``) over the small test pools.
    """
    ports = dict(zip(DEFAULT_PORTS, free_ports(len(DEFAULT_PORTS)), strict=True))
    infra = Infra(
        nats_url=urls.nats,
        database_url=urls.postgres,
        redis_url=urls.redis,
        vault_url=vault.url,
        vault_token=vault.root_token,
    )
    return StackConfig(
        infra=infra,
        namespace=namespace,
        data_dir=data_dir,
        ports=ports,
        schema_prefix=f"{namespace}_",
        extra_env=_with_small_pools(extra_env or {}),
    )


def _with_small_pools(extra_env: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    merged = {name: {"DATABASE_POOL_SIZE": TEST_POOL_SIZE} for name in DATABASE_SERVICES}
    for name, env in extra_env.items():
        merged[name] = merged.get(name, {}) | dict(env)
    return merged


async def _drop_schemas(postgres_url: str, prefix: str) -> None:
    conn = await asyncpg.connect(postgres_url)
    try:
        rows = await conn.fetch(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1",
            prefix.replace("_", r"\_") + "%",
        )
        for row in rows:
            await drop_schema(conn, row["nspname"])
        await drop_roles_of(conn, prefix.removesuffix("_"))
    finally:
        await conn.close()


async def _drop_keys(redis_url: str, namespace: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{namespace}:*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@asynccontextmanager
async def running_stack(
    urls: ServerUrls,
    vault: VaultServer,
    namespace: str,
    data_dir: Path,
    services: tuple[str, ...] = SERVICES,
    *,
    extra_env: Mapping[str, Mapping[str, str]] | None = None,
) -> AsyncIterator[Stack]:
    """Start ``services`` as processes; stop them and remove everything they made afterwards."""
    stack = Stack(stack_config(urls, vault, namespace, data_dir, extra_env), services)
    try:
        stack.launch()  # all at once: about half the start-up time of one after another
        await asyncio.to_thread(stack.wait_ready)
        yield stack
    finally:
        await asyncio.to_thread(stack.stop)
        await drop_namespace_streams(urls.nats, Topology(namespace=namespace))
        await _drop_schemas(urls.postgres, f"{namespace}_")
        await _drop_keys(urls.redis, namespace)

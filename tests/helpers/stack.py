"""Services as processes, in a test's own namespace, on free ports: the whole stack, or one.

Every process is a `scripts.devstack.ServiceProcess` with the environment
`scripts.devstack.service_env` builds: the tests start services as `make run` does, and a
test says only the settings it changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import redis.asyncio as aioredis

from libs.common.nats_access import new_passwords, server_config
from libs.common.topology import Topology
from scripts.devstack import DEFAULT_PORTS, SERVICES, Infra, ServiceProcess, Stack, StackConfig
from scripts.servers import ensure_nats_topology
from tests.helpers.db_logins import drop_roles_of
from tests.helpers.namespaces import drop_namespace_streams, drop_schema
from tests.helpers.ports import PrivateNats, free_ports
from tests.helpers.servers import ServerUrls, urls_from_env
from tests.helpers.signing import LEDGER_KEY, ROUTER_KEY
from tests.helpers.vault import VaultServer

# Processes with a database pool (accounts: the executor's code in its accounts role).
DATABASE_SERVICES = ("billing", "router", "executor", "accounts", "ledger", "notifier", "web")
# What the pipeline's tests start: everything but the web app and the notifier, which only the
# tests of those need (they pass `SERVICES`, the whole stack as `make run` starts it, or
# `PIPELINE + ("notifier",)`).
PIPELINE = tuple(name for name in SERVICES if name not in ("web", "notifier"))


# Small pools: several stacks (and the rest of the suite) share one Postgres of 100 connections.
TEST_POOL_SIZE = "3"


def stack_config(
    urls: ServerUrls,
    vault: VaultServer | None,
    namespace: str,
    data_dir: Path,
    extra_env: Mapping[str, Mapping[str, str]] | None = None,
    *,
    nats_passwords: Mapping[str, str] | None = None,
    smtp_port: int = 0,
) -> StackConfig:
    """Return a stack configuration isolated in ``namespace``; ``extra_env`` adds settings per
    service (``{"executor": {"CLIENT_POOL_SIZE": "1100"}}``) over the small test pools.
    """
    ports = dict(zip(DEFAULT_PORTS, free_ports(len(DEFAULT_PORTS)), strict=True))
    infra = Infra(
        nats_url=urls.nats,
        database_url=urls.postgres,
        redis_url=urls.redis,
        nats_passwords=nats_passwords,
        **({"vault_url": vault.url, "vault_token": vault.root_token} if vault else {}),
    )
    return StackConfig(
        infra=infra,
        namespace=namespace,
        data_dir=data_dir,
        ports=ports,
        schema_prefix=f"{namespace}_",
        router_order_key=ROUTER_KEY,
        ledger_order_key=LEDGER_KEY,
        extra_env=_with_small_pools(extra_env or {}),
        smtp_port=smtp_port,
    )


def service_config(
    service: str,
    data_dir: Path,
    settings: Mapping[str, object] | None = None,
    *,
    namespace: str = "sparky",
    urls: ServerUrls | None = None,
) -> StackConfig:
    """Return the configuration of a stack of ``namespace`` on ``urls`` (the machine's servers
    by default) in which ``service`` runs with ``settings`` on top: its settings' field names
    (``{"database_schema": "t1", "consumer_ack_wait_s": 3}``)."""
    own = {key.upper(): str(value) for key, value in (settings or {}).items()}
    return stack_config(urls or urls_from_env(), None, namespace, data_dir, {service: own})


def one_service(
    service: str,
    data_dir: Path,
    settings: Mapping[str, object] | None = None,
    *,
    namespace: str = "sparky",
    urls: ServerUrls | None = None,
) -> ServiceProcess:
    """Return ``service`` alone as a process (not started), configured by `service_config`.

    Its log is ``<data_dir>/logs/<namespace>-<service>.log``: two processes of one service
    (replicas) take two data folders.
    """
    cfg = service_config(service, data_dir, settings, namespace=namespace, urls=urls)
    return ServiceProcess(service, cfg)


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


def _no_refusals(server: PrivateNats) -> None:
    """Fail the stack if NATS refused any service anything: the permissions of
    `libs.common.nats_access` must grant what the services do.
    """
    refused = server.refusals()
    assert not refused, "NATS refused a service:\n" + "\n".join(refused[:20])


@asynccontextmanager
async def running_stack(
    urls: ServerUrls,
    vault: VaultServer,
    namespace: str,
    data_dir: Path,
    services: tuple[str, ...] = PIPELINE,
    *,
    extra_env: Mapping[str, Mapping[str, str]] | None = None,
    nats_users: bool = True,
    smtp_port: int = 0,
) -> AsyncIterator[Stack]:
    """Start ``services`` as processes; stop them and remove everything they made afterwards.

    ``smtp_port``: where the web app and the notifier send their mail (a
    `scripts.mailbox.Mailbox` of the test's).

    With ``nats_users`` (the default) the stack gets a NATS of its own with the users and
    permissions of `libs.common.nats_access`, each service connecting as itself, as in
    production; without, it uses ``urls.nats`` as it is (a test that stops its own NATS).
    """
    with contextlib.ExitStack() as resources:
        passwords = None
        if nats_users:
            await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
            passwords = new_passwords()
            authorization = server_config(Topology(namespace=namespace), passwords)
            private = PrivateNats(data_dir / "nats", authorization)
            await asyncio.to_thread(private.start)
            resources.callback(_no_refusals, private)
            resources.callback(private.stop)
            urls = dataclasses.replace(urls, nats=private.url)
        cfg = stack_config(
            urls,
            vault,
            namespace,
            data_dir,
            extra_env,
            nats_passwords=passwords,
            smtp_port=smtp_port,
        )
        await ensure_nats_topology(cfg.infra.admin_nats_url, namespace)
        stack = Stack(cfg, services)
        try:
            stack.launch()  # all at once: about half the start-up time of one after another
            await asyncio.to_thread(stack.wait_ready)
            yield stack
        finally:
            await asyncio.to_thread(stack.stop)
            if not nats_users:
                await drop_namespace_streams(urls.nats, Topology(namespace=namespace))
            await _drop_schemas(urls.postgres, f"{namespace}_")
            await _drop_keys(urls.redis, namespace)

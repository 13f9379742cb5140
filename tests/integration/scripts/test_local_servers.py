"""The servers `make run` starts itself: they serve, keep their data, and stop when told.

Each runs from its real pip-installed binary in the test's own folder, on a free port; none of
the machine's shared servers is touched except as the "already running" case of `bring_up`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import asyncpg
import httpx
import psutil
import pytest
import redis

from scripts.infra import LocalNats, LocalRedis, LocalServer, answers, free_port
from scripts.local_postgres import RUN_AS, LocalPostgres
from scripts.local_vault import LocalOpenBao, ensure_kv_v2, unlock
from scripts.servers import Servers, bring_up, ensure_database, ensure_nats_topology
from tests.helpers.servers import ServerUrls


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[LocalServer]]:
    """Servers a test starts; whatever happens, each is stopped afterwards."""
    servers: list[LocalServer] = []
    yield servers
    for server in servers:
        server.stop()


S = TypeVar("S", bound=LocalServer)


def run(server: S, started: list[LocalServer]) -> S:
    started.append(server)
    server.start()
    return server


def stopped(server: LocalServer) -> bool:
    """Stop ``server``; return whether its process is gone and its port silent."""
    pid = server.pid
    server.stop()
    return pid is not None and not psutil.pid_exists(pid) and not answers("127.0.0.1", server.port)


async def _write(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('yes')")
    finally:
        await conn.close()


async def _read(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        return str(await conn.fetchval("SELECT v FROM kept"))
    finally:
        await conn.close()


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder the ``pgserver`` user can reach for the whole test.

    Not ``tmp_path``: pytest makes ``/tmp/pytest-of-<user>`` private (0700) again whenever a
    session starts, which would lock that user out as soon as another pytest run starts.
    """
    folder = Path(tempfile.mkdtemp(prefix="sparky-run-pg-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_postgres_serves_tcp_creates_the_database_and_keeps_rows_across_restarts(
    shared_tmp: Path, started: list[LocalServer]
) -> None:
    port = free_port()
    first = run(LocalPostgres(port, shared_tmp), started)
    url = first.url("sparky")
    assert asyncio.run(ensure_database(url)) is True
    assert asyncio.run(ensure_database(url)) is False
    asyncio.run(_write(url))
    if os.geteuid() == 0:  # Postgres refuses root: it runs as the pgserver user
        assert psutil.Process(first.pid or 0).username() == RUN_AS
    assert stopped(first)
    second = run(LocalPostgres(port, shared_tmp), started)
    assert asyncio.run(_read(url)) == "yes"
    assert stopped(second)


def test_redis_keeps_keys_across_restarts(tmp_path: Path, started: list[LocalServer]) -> None:
    port = free_port()
    first = run(LocalRedis(port, tmp_path), started)
    redis.Redis(port=port).set("kept", "yes")
    assert stopped(first)
    run(LocalRedis(port, tmp_path), started)
    assert redis.Redis(port=port).get("kept") == b"yes"


def test_nats_serves_jetstream(tmp_path: Path, started: list[LocalServer]) -> None:
    server = run(LocalNats(free_port(), tmp_path), started)
    url = f"nats://127.0.0.1:{server.port}"
    asyncio.run(ensure_nats_topology(url, "sparky"))
    assert (tmp_path / "nats" / "jetstream").is_dir()
    assert stopped(server)


def test_openbao_is_initialised_once_and_unsealed_with_the_kept_key_on_every_start(
    tmp_path: Path, started: list[LocalServer]
) -> None:
    first = run(LocalOpenBao(free_port(), tmp_path), started)
    token = unlock(first.url, first.keys_path)
    ensure_kv_v2(first.url, token)
    auth = {"X-Vault-Token": token}
    secret = {"data": {"api_key": "kept"}}
    httpx.post(f"{first.url}/v1/secret/data/sparky/x", json=secret, headers=auth).raise_for_status()
    assert stat.S_IMODE(first.keys_path.stat().st_mode) == 0o600
    assert stopped(first)

    second = run(LocalOpenBao(free_port(), tmp_path), started)  # another port: same data
    assert unlock(second.url, second.keys_path) == token
    ensure_kv_v2(second.url, token)  # already there: kept as it is
    read = httpx.get(f"{second.url}/v1/secret/data/sparky/x", headers=auth).raise_for_status()
    assert read.json()["data"]["data"] == {"api_key": "kept"}

    second.keys_path.unlink()
    with pytest.raises(SystemExit, match="unseal key is not in"):
        unlock(second.url, second.keys_path)


def test_bring_up_uses_answering_servers_and_starts_only_the_silent_ones(
    tmp_path: Path, server_urls: ServerUrls
) -> None:
    silent_redis = f"redis://127.0.0.1:{free_port()}/0"
    urls = {
        "NATS": server_urls.nats,
        "Postgres": server_urls.postgres,
        "Redis": silent_redis,
        "Vault": f"http://127.0.0.1:{free_port()}",
    }
    servers = Servers(data_dir=tmp_path)
    try:
        bring_up(urls, "", servers)
        assert [s.name for s in servers.started] == ["redis", "openbao"]
        assert servers.urls["NATS"] == server_urls.nats
        assert servers.urls["Redis"] == silent_redis  # the configured port was free: kept
        assert servers.origin("Postgres") == "already running"
        assert servers.origin("Vault") == "started here"
        assert servers.infra().vault_token
    finally:
        pids = [s.pid for s in servers.started]
        servers.stop()
    assert not any(pid and psutil.pid_exists(pid) for pid in pids)


class NatsWithoutJetStream(LocalNats):
    def command(self) -> list[str]:
        return [word for word in super().command() if word != "-js"]


def test_a_nats_without_jetstream_is_refused_in_words(
    tmp_path: Path, started: list[LocalServer]
) -> None:
    server = run(NatsWithoutJetStream(free_port(), tmp_path), started)
    with pytest.raises(SystemExit, match=r"answers but JetStream does not.*-js"):
        asyncio.run(ensure_nats_topology(f"nats://127.0.0.1:{server.port}", "sparky"))

"""Where `make run` finds NATS, Postgres, Redis and Vault: at their URLs, or started here.

A server is taken from its configured URL when something accepts connections there. Where
nothing does, it is started from its pip-installed binary (`scripts.infra`), on the configured
port when that is on this machine, else on a free one, with its data under the data folder.
Then the database is created if missing and the NATS streams and buckets are made. Each
service migrates its own schema when it starts.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
import nats

from libs.common.db_logins import Logins, provision
from libs.common.db_roles import role_prefix
from libs.common.jetstream import ensure_topology
from libs.common.nats_access import ADMIN, new_passwords, server_config
from libs.common.nats_access import USERS as NATS_USERS
from libs.common.topology import Topology
from scripts.devstack import Infra
from scripts.infra import (
    LocalNats,
    LocalRedis,
    LocalServer,
    answers,
    host_port,
    local_port,
    with_netloc,
)
from scripts.local_postgres import LocalPostgres
from scripts.local_vault import LocalOpenBao, ensure_kv_v2, unlock

NATS_PORT, POSTGRES_PORT, REDIS_PORT, VAULT_PORT = 4222, 5432, 6379, 8200
_DATABASE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,62}$")


@dataclass
class Servers:
    """The infrastructure of one run: where each server is, and those started here."""

    data_dir: Path
    urls: dict[str, str] = field(default_factory=dict)
    started: list[LocalServer] = field(default_factory=list)
    vault_token: str = ""
    nats_passwords: dict[str, str] | None = None

    def infra(self) -> Infra:
        return Infra(
            nats_url=self.urls["NATS"],
            database_url=self.urls["Postgres"],
            redis_url=self.urls["Redis"],
            vault_url=self.urls["Vault"],
            vault_token=self.vault_token,
            nats_passwords=self.nats_passwords,
        )

    def start(self, server: LocalServer) -> None:
        """Start ``server``, counting it as ours first so that a failed start is cleaned up."""
        self.started.append(server)
        print(f"run: starting {server.name} on port {server.port} (data in {server.home})")
        server.start()

    def origin(self, kind: str) -> str:
        local = {"NATS": "nats", "Postgres": "postgres", "Redis": "redis", "Vault": "openbao"}
        ours = any(server.name == local[kind] for server in self.started)
        return "started here" if ours else "already running"

    def pids(self) -> list[int | None]:
        return [server.pid for server in self.started]

    def stop(self) -> None:
        """Stop the servers started here, last started first."""
        for server in reversed(self.started):
            server.stop()


def bring_up(
    urls: Mapping[str, str], vault_token: str, servers: Servers, namespace: str = "sparky"
) -> None:
    """Find or start each server, filling ``servers`` as it goes."""
    servers.urls["NATS"] = _nats(urls["NATS"], servers, namespace)
    servers.urls["Postgres"] = _postgres(urls["Postgres"], servers)
    servers.urls["Redis"] = _redis(urls["Redis"], servers)
    servers.urls["Vault"], servers.vault_token = _vault(urls["Vault"], vault_token, servers)


def _nats(url: str, servers: Servers, namespace: str) -> str:
    """A NATS that answers is used as it is (with users or without: each service presents its
    own anyway); one started here has the users and permissions of `libs.common.nats_access`.
    """
    if answers(*host_port(url, NATS_PORT)):
        return url
    passwords = nats_passwords(servers.data_dir)
    authorization = server_config(Topology(namespace=namespace), passwords)
    server = LocalNats(local_port(url, NATS_PORT), servers.data_dir, authorization)
    servers.start(server)
    servers.nats_passwords = passwords
    return with_netloc(url, server.port)


def nats_passwords(data_dir: Path) -> dict[str, str]:
    """Return the NATS users' passwords of this data folder, made the first time."""
    path = data_dir / "nats-passwords.json"
    if path.exists():
        known: dict[str, str] = json.loads(path.read_text())
        if set(known) == set(NATS_USERS):
            return known
    passwords = new_passwords()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(passwords))
    path.chmod(0o600)
    return passwords


def _redis(url: str, servers: Servers) -> str:
    if answers(*host_port(url, REDIS_PORT)):
        return url
    server = LocalRedis(local_port(url, REDIS_PORT), servers.data_dir)
    servers.start(server)
    return with_netloc(url, server.port)


def _postgres(url: str, servers: Servers) -> str:
    if answers(*host_port(url, POSTGRES_PORT)):
        return url
    server = LocalPostgres(local_port(url, POSTGRES_PORT), servers.data_dir)
    servers.start(server)
    return server.url(database_name(url))


def _vault(url: str, token: str, servers: Servers) -> tuple[str, str]:
    keys = servers.data_dir / "openbao" / "keys.json"
    if answers(*host_port(url, VAULT_PORT)):
        # Ours from an earlier run that was killed, or the operator's own with its token.
        token = token or (unlock(url, keys) if keys.exists() else "")
        if not token:
            raise SystemExit(
                f"A Vault answers at {url}, but make run has no token for it: set "
                "SPARKY_VAULT_TOKEN, or point SPARKY_VAULT_URL at a free port and make run "
                "starts an OpenBao of its own"
            )
        ensure_kv_v2(url, token)
        return url, token
    server = LocalOpenBao(local_port(url, VAULT_PORT), servers.data_dir)
    servers.start(server)
    token = unlock(server.url, server.keys_path)
    ensure_kv_v2(server.url, token)
    return server.url, token


def database_name(url: str) -> str:
    """Return the database a Postgres URL names, checked (it is quoted into DDL)."""
    name = urlsplit(url).path.lstrip("/") or "sparky"
    if not _DATABASE_NAME.match(name):
        raise SystemExit(f"the database name {name!r} in SPARKY_DATABASE_URL is not a plain name")
    return name


async def ensure_database(url: str) -> bool:
    """Create the database ``url`` names unless it exists; return whether it was created."""
    name = database_name(url)
    parts = urlsplit(url)._replace(scheme="postgresql", path="/postgres", query="")
    maintenance = urlunsplit(parts)
    try:
        conn = await asyncpg.connect(maintenance, timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        raise SystemExit(f"Postgres at {maintenance} does not let make run in: {exc}") from exc
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return False
        await conn.execute(f'CREATE DATABASE "{name}"')
        return True
    finally:
        await conn.close()


async def ensure_logins(admin_url: str, namespace: str) -> tuple[str, str]:
    """Create (or correct) the runtime and migration logins of ``namespace``'s deployment and
    its roles, as ``admin_url``'s user; return the runtime and the migration login's URLs.

    Passwords are new at every run: the URLs live only in this run's processes.
    """
    logins = Logins.of(role_prefix(namespace))
    passwords = {login: secrets.token_urlsafe(24) for login in (logins.runtime, logins.migration)}
    conn = await asyncpg.connect(urlunsplit(urlsplit(admin_url)._replace(scheme="postgresql")))
    try:
        await provision(
            conn,
            logins,
            migration_password=passwords[logins.migration],
            runtime_password=passwords[logins.runtime],
        )
    finally:
        await conn.close()
    urls = {login: _url_as(admin_url, login, password) for login, password in passwords.items()}
    return urls[logins.runtime], urls[logins.migration]


def _url_as(url: str, login: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{login}:{quote(password, safe='')}@{host}"))


async def ensure_nats_topology(url: str, namespace: str, admin_password: str | None = None) -> None:
    """Create or update the namespace's streams and buckets as NATS's ``admin`` (services only
    create what is missing; this fails early).
    """
    credentials = {"user": ADMIN, "password": admin_password} if admin_password else {}
    try:
        nc = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=0, **credentials)
    except (OSError, nats.errors.Error) as exc:
        raise SystemExit(f"NATS at {url} accepts connections but not ours: {exc!r}") from exc
    try:
        await ensure_topology(nc.jetstream(), Topology(namespace=namespace))
    except nats.errors.Error as exc:
        raise SystemExit(
            f"NATS at {url} answers but JetStream does not ({exc!r}): start nats-server with "
            "-js, or point SPARKY_NATS_URL at a free port and make run starts its own"
        ) from exc
    finally:
        await nc.close()

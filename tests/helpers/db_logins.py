"""A deployment's two logins for one test, provisioned on the real server and dropped after.

Logins and roles are cluster-wide, so every test names them after a namespace of its own and
drops them (and whatever they own: the schemas migrated as the migration login) afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import asyncpg

from libs.common.db_logins import Logins, provision


@dataclass(frozen=True)
class Deployment:
    """The logins of one test deployment and their URLs."""

    logins: Logins
    migration_url: str
    runtime_url: str


def url_as(url: str, login: str) -> str:
    """Return ``url`` with ``login`` as its user (the test server trusts local logins)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return parts._replace(netloc=f"{login}@{host}").geturl()


async def drop_roles_of(conn: asyncpg.Connection, prefix: str) -> None:
    """Drop every role named ``<prefix>_…`` and what it owns or was granted in this database."""
    like = prefix.replace("_", r"\_") + r"\_%"
    rows = await conn.fetch("SELECT rolname FROM pg_roles WHERE rolname LIKE $1", like)
    for row in rows:
        await conn.execute(f'DROP OWNED BY "{row["rolname"]}" CASCADE')
    for row in rows:
        await conn.execute(f'DROP ROLE IF EXISTS "{row["rolname"]}"')


@asynccontextmanager
async def deployment(admin_url: str, prefix: str) -> AsyncIterator[Deployment]:
    """Provision the logins of ``prefix``; drop them, their roles and their schemas after."""
    logins = Logins.of(prefix)
    conn = await asyncpg.connect(admin_url)
    try:
        await provision(conn, logins)
        yield Deployment(
            logins, url_as(admin_url, logins.migration), url_as(admin_url, logins.runtime)
        )
    finally:
        await conn.execute("SET lock_timeout = '5s'")
        await drop_roles_of(conn, prefix)
        await conn.close()

"""Create a deployment's two Postgres logins and its roles, idempotently, as an administrator.

``python -m libs.common.db_logins --prefix sparky`` (the administrator's URL in
``SPARKY_DB_ADMIN_URL``, passwords in ``SPARKY_DB_MIGRATION_PASSWORD`` and
``SPARKY_DB_RUNTIME_PASSWORD``; none: a server that trusts local connections) makes sure that:

- the migration login (default ``<prefix>_migrator``) may log in and create schemas in the
  database, and is a member of every role of the deployment (its data migrations switch to
  the writers);
- the runtime login (default ``<prefix>_app``) may log in, is ``NOINHERIT`` and a member of
  the deployment's roles and nothing else (any other membership is revoked);
- the roles (`libs.common.db_roles.deployment_roles`) exist, ``NOLOGIN``, without
  ``BYPASSRLS``.

No login is a superuser, creates roles or databases, or bypasses RLS. Passwords are sent as
SCRAM verifiers, never in clear, so a server logging DDL logs no password. `make run` runs
this on the local Postgres; operators run it once per deployment (docs/deploy.md).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import os
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from libs.common.db import check_schema
from libs.common.db_roles import deployment_roles, role_prefix

_KEYWORDS = {
    "rolcanlogin": "LOGIN",
    "rolinherit": "INHERIT",
    "rolsuper": "SUPERUSER",
    "rolcreatedb": "CREATEDB",
    "rolcreaterole": "CREATEROLE",
    "rolbypassrls": "BYPASSRLS",
    "rolreplication": "REPLICATION",
}
_UNPRIVILEGED = {
    "rolsuper": False,
    "rolcreatedb": False,
    "rolcreaterole": False,
    "rolbypassrls": False,
    "rolreplication": False,
}
_SCRAM_ITERATIONS = 4096


@dataclass(frozen=True)
class Logins:
    """The two logins of one deployment and the roles they switch to."""

    prefix: str
    migration: str
    runtime: str
    roles: tuple[str, ...]

    @classmethod
    def of(cls, prefix: str, migration: str = "", runtime: str = "") -> Logins:
        """Return the logins of ``prefix``: ``<prefix>_migrator`` and ``<prefix>_app`` unless
        named.
        """
        prefix = role_prefix(prefix)
        return cls(
            prefix=prefix,
            migration=check_schema(migration or f"{prefix}_migrator"),
            runtime=check_schema(runtime or f"{prefix}_app"),
            roles=tuple(deployment_roles(prefix)),
        )


def scram_verifier(password: str, *, salt: bytes | None = None) -> str:
    """Return Postgres' SCRAM-SHA-256 verifier of ``password`` (what ``\\password`` sends)."""
    salt = salt or secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _SCRAM_ITERATIONS)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${_SCRAM_ITERATIONS}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def _clause(attributes: dict[str, bool]) -> str:
    return " ".join(("" if on else "NO") + _KEYWORDS[column] for column, on in attributes.items())


async def _ensure_role(conn: asyncpg.Connection, name: str, attributes: dict[str, bool]) -> None:
    """Create ``name`` with ``attributes``, or change those of an existing role that differ
    (only those: naming an attribute at all needs a superuser, an administrator with only
    CREATEROLE could not run the statement).
    """
    columns = ", ".join(attributes)
    # The columns are _KEYWORDS' own names, never input.
    query = f"SELECT {columns} FROM pg_roles WHERE rolname = $1"  # noqa: S608
    found = await conn.fetchrow(query, name)
    if found is None:
        # Created meanwhile by another provisioner, with the same attributes: fine.
        with contextlib.suppress(asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
            await conn.execute(f'CREATE ROLE "{name}" {_clause(attributes)}')
        return
    wrong = {column: on for column, on in attributes.items() if found[column] != on}
    if wrong:
        await conn.execute(f'ALTER ROLE "{name}" {_clause(wrong)}')


async def _set_password(conn: asyncpg.Connection, login: str, password: str | None) -> None:
    if password:
        statement = await conn.fetchval(
            "SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text)",
            login,
            scram_verifier(password),
        )
        await conn.execute(statement)


async def _only_members_of(conn: asyncpg.Connection, login: str, roles: Sequence[str]) -> None:
    stray = await conn.fetch(
        "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
        "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1 AND NOT r.rolname = ANY($2)",
        login,
        list(roles),
    )
    for row in stray:
        await conn.execute(f'REVOKE "{row["rolname"]}" FROM "{login}"')


async def provision(
    conn: asyncpg.Connection,
    logins: Logins,
    *,
    migration_password: str | None = None,
    runtime_password: str | None = None,
) -> None:
    """Create or correct ``logins`` and their roles on ``conn``'s server and database."""
    database = check_schema(await conn.fetchval("SELECT current_database()"))
    await _ensure_role(conn, logins.migration, _UNPRIVILEGED | {"rolcanlogin": True})
    await _ensure_role(
        conn, logins.runtime, _UNPRIVILEGED | {"rolcanlogin": True, "rolinherit": False}
    )
    await _set_password(conn, logins.migration, migration_password)
    await _set_password(conn, logins.runtime, runtime_password)
    await conn.execute(f'GRANT CONNECT, CREATE ON DATABASE "{database}" TO "{logins.migration}"')
    await conn.execute(f'GRANT CONNECT ON DATABASE "{database}" TO "{logins.runtime}"')
    for role in logins.roles:
        await _ensure_role(conn, role, _UNPRIVILEGED | {"rolcanlogin": False})
        for login in (logins.migration, logins.runtime):
            await conn.execute(f'GRANT "{role}" TO "{login}"')
    await _only_members_of(conn, logins.runtime, logins.roles)


async def _main(args: argparse.Namespace) -> None:
    admin_url = os.environ.get("SPARKY_DB_ADMIN_URL")
    if not admin_url:
        raise SystemExit("SPARKY_DB_ADMIN_URL (a superuser's or CREATEROLE login's URL) is unset")
    logins = Logins.of(args.prefix, args.migration_login, args.runtime_login)
    logins = Logins(logins.prefix, logins.migration, logins.runtime, logins.roles + args.role)
    conn = await asyncpg.connect(admin_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await provision(
            conn,
            logins,
            migration_password=os.environ.get("SPARKY_DB_MIGRATION_PASSWORD") or None,
            runtime_password=os.environ.get("SPARKY_DB_RUNTIME_PASSWORD") or None,
        )
    finally:
        await conn.close()
    sys.stdout.write(
        f"migration login {logins.migration}, runtime login {logins.runtime} (NOINHERIT)\n"
        f"roles: {', '.join(logins.roles)}\n"
    )


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and provision."""
    parser = argparse.ArgumentParser(prog="python -m libs.common.db_logins", description=__doc__)
    parser.add_argument("--prefix", required=True, help="the deployment's role prefix")
    parser.add_argument("--migration-login", default="", help="default: <prefix>_migrator")
    parser.add_argument("--runtime-login", default="", help="default: <prefix>_app")
    parser.add_argument(
        "--role",
        action="append",
        default=[],
        type=check_schema,
        help="a role named in a service's settings instead of the prefixed default (repeat)",
    )
    args = parser.parse_args(argv)
    args.role = tuple(args.role)
    asyncio.run(_main(args))


if __name__ == "__main__":
    main()

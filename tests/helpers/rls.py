"""What the Row-Level Security tests of the executor, router and ledger share."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


async def column(conn: AsyncConnection, sql: str) -> list[str]:
    """Run ``sql`` and return its first column."""
    return list((await conn.execute(text(sql))).scalars().all())


async def run_each(conn: AsyncConnection, statement: str) -> None:
    """Run the ``"; "``-separated parts of ``statement`` in turn on ``conn``."""
    for part in statement.split("; "):
        await conn.execute(text(part))


async def forced_rls(
    url: str, schema: str, roles: Sequence[str]
) -> tuple[set[str], list[tuple[str, bool, bool, bool]]]:
    """Return the tables of ``schema`` with RLS enabled and forced, and each role's
    ``(name, bypasses RLS, superuser, can log in)``, sorted by name, read as the superuser.
    """
    conn = await asyncpg.connect(url)
    try:
        forced = await conn.fetch(
            "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = $1 AND relrowsecurity AND relforcerowsecurity",
            schema,
        )
        found = await conn.fetch(
            "SELECT rolname, rolbypassrls, rolsuper, rolcanlogin FROM pg_roles "
            "WHERE rolname = ANY($1) ORDER BY rolname",
            list(roles),
        )
    finally:
        await conn.close()
    return {row["relname"] for row in forced}, [tuple(row.values()) for row in found]

"""The body of every service's Alembic ``env.py``: migrate one schema over asyncpg.

A service's ``migrations/env.py`` is two lines::

    from libs.common.migrations import run_migrations
    run_migrations()

The schema comes from ``config.attributes["schema"]`` (set by `libs.common.db.upgrade`) or the
``-x schema=…`` command-line option; the version table lives in that schema too, so services
and tests never share migration state.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from libs.common.db import check_schema


def ensure_role_sql(role: str) -> str:
    """Return the statement a migration runs to make sure ``role`` exists (``NOLOGIN``, no
    ``BYPASSRLS``), the migrating user is a member, and it may use the current schema.

    Where `libs.common.db_logins` made the deployment's roles and logins beforehand (deployed,
    `make run`), only the schema grant remains to do, and the migration login needs no
    ``CREATEROLE``; a superuser migrating (tests, compose) creates what is missing.

    Roles are cluster-wide and several schemas may migrate at once (replicas, tests): creating
    the role or the membership twice fails on the catalogue's unique index, and the loser's
    duplicate is harmless, so it is ignored.
    """
    return f"""
        DO $$
        BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
            BEGIN
              CREATE ROLE "{role}" NOLOGIN NOBYPASSRLS;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
            END;
          END IF;
          IF NOT pg_has_role(current_user, '{role}', 'MEMBER') THEN
            BEGIN
              EXECUTE format('GRANT %I TO %I', '{role}', current_user);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
            END;
          END IF;
          EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', current_schema(), '{role}');
        END $$
        """


def _schema() -> str:
    config = context.config
    schema = config.attributes.get("schema") or context.get_x_argument(as_dictionary=True).get(
        "schema"
    )
    if not schema:
        raise RuntimeError("no schema: call libs.common.db.upgrade or pass -x schema=NAME")
    return check_schema(str(schema))


def _migrate(connection: Connection, schema: str) -> None:
    connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    connection.execute(text(f'SET search_path TO "{schema}", public'))
    context.configure(
        connection=connection,
        version_table_schema=schema,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online(url: str, schema: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            # One migrator per schema at a time: replicas starting together wait, not race.
            await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:s))"), {"s": schema})
            await conn.run_sync(_migrate, schema)
    finally:
        await engine.dispose()


def run_migrations() -> None:
    """Run the pending migrations of the current Alembic context (online only)."""
    if context.is_offline_mode():
        raise RuntimeError("offline (SQL script) migrations are not supported")
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("sqlalchemy.url is not set")
    asyncio.run(_run_online(url, _schema()))

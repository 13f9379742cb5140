"""Postgres plumbing for the services that own a schema (router, executor, ledger, billing).

Each service keeps its tables in its own schema and never reads another's. Tables are declared
without a schema; the engine puts the service's schema first on ``search_path``, so the same
models and migrations serve ``router`` in production and ``pt3k…`` in a test.

Needs the ``sqlalchemy[asyncio]`` and ``asyncpg`` packages (every DB service's extra).
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from libs.common.api import unavailable
from libs.common.errors import ConfigurationError

SCHEMA_PATTERN = r"^[a-z_][a-z0-9_]{0,62}$"
# SQLSTATE classes of a server that is away or full, not of a bad statement: connection
# exception (08), insufficient resources (53: "too many clients already"), operator
# intervention (57: shutting down, starting up). asyncpg reports them as a plain DBAPIError.
_UNAVAILABLE_SQLSTATES = ("08", "53", "57")
_SCHEMA_RE = re.compile(SCHEMA_PATTERN)
_ALEMBIC_LOCK = threading.Lock()
OUTAGE_RETRY_AFTER_S = 2
POOL_RECYCLE_S = 1800
# Generic on purpose: an OSError may as well come from NATS or Vault as from Postgres, and the
# request may or may not have changed something before it failed.
OUTAGE_MESSAGE = (
    "A service Sparky depends on cannot be reached right now; try again in a moment. "
    "If you were changing something, check whether it took effect before sending it again."
)
_log = logging.getLogger(__name__)


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database cannot answer right now: retry later, it is not the
    statement's fault. A refused connection is a bare `OSError` from asyncpg, a full pool a
    timeout, a restarting or full server one of the SQLSTATE classes above.
    """
    if isinstance(exc, OperationalError | InterfaceError | OSError | TimeoutError):
        return True
    if isinstance(exc, PoolTimeoutError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return exc.connection_invalidated or (
        isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES)
    )


async def _outage(request: Request, exc: Exception) -> Response:
    if not database_unavailable(exc):
        raise exc  # a bug, not an outage: the server's 500, logged with its traceback
    _log.warning("answered 503, a dependency is unavailable: %s", type(exc).__name__)
    return unavailable(OUTAGE_MESSAGE, retry_after_s=OUTAGE_RETRY_AFTER_S)


def install_outage_answers(app: FastAPI) -> None:
    """Answer 503 with ``Retry-After`` when a request fails because Postgres (or NATS, or
    Vault: any `OSError`) cannot answer, as `database_unavailable` decides; any other failure
    of these kinds stays a 500.
    """
    for kind in (OSError, PoolTimeoutError, DBAPIError):
        app.add_exception_handler(kind, _outage)


class DatabaseSettings(BaseModel):
    """Mix into a service's settings: ``class XSettings(ServiceSettings, DatabaseSettings)``.

    Two logins (`libs.common.db_roles`): ``database_url`` is the runtime login the service
    works with, ``migration_database_url`` the one that owns the schema and migrates it.
    """

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/sparky"
    migration_database_url: str = Field(
        default="",
        description="The login that owns the schema and runs the migrations; unset: "
        "database_url (development only: refused when the environment is prod).",
    )
    migrate_on_start: bool = Field(
        default=True,
        description="Migrate the schema at start-up with the migration login (development); "
        "the chart runs a migration Job instead and turns this off.",
    )
    db_role_prefix: str = Field(
        default="",
        pattern=r"^([a-z_][a-z0-9_]{0,39})?$",
        description="Prefix of this deployment's Postgres roles; unset: the namespace.",
    )
    database_schema: str = Field(default="", pattern=r"^([a-z_][a-z0-9_]{0,62})?$")
    database_pool_size: int = Field(default=10, ge=1, le=200)

    @property
    def migration_url(self) -> str:
        """The migration login's URL: the runtime one stands in outside production only."""
        if self.migration_database_url:
            return self.migration_database_url
        # Mixed into ServiceSettings, which has the environment; compared by value so that
        # this module needs no import of the settings base.
        if str(getattr(self, "environment", "dev")) == "prod":
            raise ConfigurationError(
                "migration_database_url is not set: in production the migrations run with "
                "their own login (SPARKY_MIGRATION_DATABASE_URL), never the service's"
            )
        return self.database_url


def asyncpg_url(url: str) -> str:
    """Return ``url`` with SQLAlchemy's asyncpg driver (accepts a plain ``postgresql://``)."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url.removeprefix(prefix)
    raise ValueError("database_url must be a postgresql:// URL")


def check_schema(schema: str) -> str:
    """Return ``schema`` if it is a plain lower-case identifier (it is interpolated in DDL)."""
    if not _SCHEMA_RE.match(schema):
        raise ValueError(f"schema {schema!r} must match {SCHEMA_PATTERN}")
    return schema


def make_engine(url: str, schema: str, *, pool_size: int = 10, **kwargs: object) -> AsyncEngine:
    """Return an engine whose connections resolve unqualified names in ``schema`` first.

    No pre-ping: it cost every checkout three round trips (``BEGIN``, an empty query,
    ``ROLLBACK``: the ``AUTOCOMMIT`` option applies after checkout), most of an order's
    Postgres time. A pooled connection that died meanwhile (Postgres restarted, a backend
    ended) fails its first statement instead, with an error `database_unavailable` accepts:
    retried by the consumers, a 503 in the APIs. SQLAlchemy then discards it and every
    connection of the pool opened before it, so a restart costs one failed statement per
    process, not one per pooled connection. ``pool_recycle`` replaces connections older
    than ``POOL_RECYCLE_S`` at checkout (no round trip), before a proxy or firewall drops
    them idle.
    """
    return create_async_engine(
        asyncpg_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=POOL_RECYCLE_S,
        connect_args={"server_settings": {"search_path": f"{check_schema(schema)},public"}},
        **kwargs,
    )


def make_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Return the session factory of ``engine`` (objects stay usable after commit)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(
    script_location: Path, url: str, schema: str, attributes: Mapping[str, str] | None = None
) -> Config:
    """Return an Alembic config for one service's migrations applied to ``schema``.

    ``attributes`` reach the migrations as ``op.get_context().config.attributes`` (the
    ledger passes the names of the roles it grants to).
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("sqlalchemy.url", asyncpg_url(url).replace("%", "%%"))
    cfg.attributes.update(attributes or {})
    cfg.attributes["schema"] = check_schema(schema)
    return cfg


def upgrade_sync(
    script_location: Path,
    url: str,
    schema: str,
    revision: str = "head",
    attributes: Mapping[str, str] | None = None,
) -> None:
    """Create ``schema`` if needed and migrate it to ``revision`` (idempotent).

    Processes migrating one schema at once take turns (a Postgres advisory lock); threads of
    one process take turns here, because Alembic's migration context is process-global.
    """
    with _ALEMBIC_LOCK:
        command.upgrade(alembic_config(script_location, url, schema, attributes), revision)


async def upgrade(
    script_location: Path,
    url: str,
    schema: str,
    revision: str = "head",
    attributes: Mapping[str, str] | None = None,
) -> None:
    """`upgrade_sync` off the event loop (Alembic's env runs a loop of its own)."""
    await asyncio.to_thread(upgrade_sync, script_location, url, schema, revision, attributes)


async def migrate_at_start(
    settings: DatabaseSettings,
    script_location: Path,
    schema: str,
    attributes: Mapping[str, str] | None = None,
) -> None:
    """Migrate ``schema`` with the migration login when ``settings.migrate_on_start`` (the
    development default: `make run`, the tests); deployed, a migration Job has done it.
    """
    if settings.migrate_on_start:
        await upgrade(script_location, settings.migration_url, schema, attributes=attributes)


def connect_as(engine: AsyncEngine, role: str) -> None:
    """Make every new connection of ``engine`` act as ``role`` (a session-wide ``SET ROLE``).

    Once per connection, not per transaction: an order's writes are single statements run
    without a transaction, and switching roles in each would add round trips to every order.
    A request's ``SET LOCAL`` of another role lasts until its transaction ends, then this one
    is back. The runtime login is ``NOINHERIT``: without this it could touch no table at all.
    """
    statement = f'SET ROLE "{check_schema(role)}"'

    def set_role(dbapi_connection: Any, _record: Any) -> None:
        # On the driver's connection: outside any transaction, so a rollback cannot undo it.
        dbapi_connection.run_async(lambda driver: driver.execute(statement))

    event.listen(engine.sync_engine, "connect", set_role)


def main(argv: list[str] | None = None) -> None:
    """``python -m libs.common.db MIGRATIONS_DIR URL SCHEMA [NAME=VALUE …]``: the migration
    Job's command; ``NAME=VALUE`` pairs reach the migrations as attributes (the roles they
    grant to: ``reader_role=sparky_router_reader``).
    """
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 3 or not all("=" in arg for arg in args[3:]):
        raise SystemExit(
            "usage: python -m libs.common.db MIGRATIONS_DIR DATABASE_URL SCHEMA [NAME=VALUE ...]"
        )
    attributes = dict(arg.split("=", 1) for arg in args[3:])
    upgrade_sync(Path(args[0]), args[1], args[2], attributes=attributes)


if __name__ == "__main__":
    main()

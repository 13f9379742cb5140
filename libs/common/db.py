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

from alembic import command
from alembic.config import Config
from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from libs.common.api import unavailable

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
    """Mix into a service's settings: ``class XSettings(ServiceSettings, DatabaseSettings)``."""

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/sparky"
    database_schema: str = Field(default="", pattern=r"^([a-z_][a-z0-9_]{0,62})?$")
    database_pool_size: int = Field(default=10, ge=1, le=200)


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


def main(argv: list[str] | None = None) -> None:
    """``python -m libs.common.db MIGRATIONS_DIR URL SCHEMA``: the migration Job's command."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        raise SystemExit("usage: python -m libs.common.db MIGRATIONS_DIR DATABASE_URL SCHEMA")
    upgrade_sync(Path(args[0]), args[1], args[2])


if __name__ == "__main__":
    main()

"""The notifier's schema: migrations (with the roles they grant to), the engine, and
transactions as one tenant (the API's role, RLS) or as the writer (every tenant)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.common.db import make_engine, migrate_at_start
from services.notifier.config import NotifierSettings

MIGRATIONS = Path(__file__).parent.parent / "migrations"
_AS_TENANT = text(
    "SELECT set_config('role', :role, true), set_config('sparky.tenant_id', :tenant, true)"
)
_AS_ROLE = text("SELECT set_config('role', :role, true)")


def roles_of(settings: NotifierSettings) -> dict[str, str]:
    """The Alembic attributes naming the roles the migrations grant to."""
    return {"api_role": settings.api_role, "writer_role": settings.writer_role}


async def migrate(settings: NotifierSettings) -> None:
    """Migrate the schema at start-up when ``migrate_on_start`` says so."""
    await migrate_at_start(
        settings, MIGRATIONS, settings.schema_name, attributes=roles_of(settings)
    )


class Database:
    """The engine, with the two kinds of transaction the notifier needs."""

    def __init__(self, engine: AsyncEngine, *, api_role: str, writer_role: str) -> None:
        self.engine = engine
        self._api_role = api_role
        self._writer_role = writer_role

    @classmethod
    def of(cls, settings: NotifierSettings) -> Database:
        engine = make_engine(
            settings.database_url, settings.schema_name, pool_size=settings.database_pool_size
        )
        return cls(engine, api_role=settings.api_role, writer_role=settings.writer_role)

    @asynccontextmanager
    async def as_tenant(self, tenant_id: str) -> AsyncIterator[AsyncConnection]:
        """Yield a transaction that sees and changes ``tenant_id``'s rows only."""
        async with self.engine.begin() as conn:
            await conn.execute(_AS_TENANT, {"role": self._api_role, "tenant": tenant_id})
            yield conn

    @asynccontextmanager
    async def as_writer(self) -> AsyncIterator[AsyncConnection]:
        """Yield a transaction over every tenant's rows (consumer, sender, bot)."""
        async with self.engine.begin() as conn:
            await conn.execute(_AS_ROLE, {"role": self._writer_role})
            yield conn

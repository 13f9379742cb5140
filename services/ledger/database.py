"""The ledger's schema: migrations (with the roles they grant to) and the engine."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.db import make_engine, upgrade, upgrade_sync
from services.ledger.config import LedgerSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def migrate_sync(url: str, schema: str, *, reader_role: str, writer_role: str) -> None:
    """Migrate ``schema`` to the latest revision; create the roles it grants to if missing."""
    roles = {"reader_role": reader_role, "writer_role": writer_role}
    upgrade_sync(MIGRATIONS, url, schema, attributes=roles)


async def migrate(settings: LedgerSettings) -> None:
    """`migrate_sync` with the settings' URL, schema and roles, off the event loop."""
    roles = {"reader_role": settings.reader_role, "writer_role": settings.writer_role}
    await upgrade(MIGRATIONS, settings.database_url, settings.schema_name, attributes=roles)


def engine_for(settings: LedgerSettings) -> AsyncEngine:
    """Return an engine whose connections resolve the ledger's tables in its schema."""
    return make_engine(
        settings.database_url, settings.schema_name, pool_size=settings.database_pool_size
    )

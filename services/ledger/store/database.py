"""The ledger's schema: migrations (with the roles they grant to) and the engine."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.db import make_engine, migrate_at_start, upgrade, upgrade_sync
from services.ledger.config import LedgerSettings

MIGRATIONS = Path(__file__).parent.parent / "migrations"


def migrate_sync(url: str, schema: str, *, reader_role: str, writer_role: str) -> None:
    """Migrate ``schema`` to the latest revision; create the roles it grants to if missing."""
    roles = {"reader_role": reader_role, "writer_role": writer_role}
    upgrade_sync(MIGRATIONS, url, schema, attributes=roles)


async def migrate(settings: LedgerSettings, *, always: bool = False) -> None:
    """Migrate the settings' schema with the migration login, granting to the settings'
    roles: at start-up when ``migrate_on_start`` says so, or ``always`` (a rebuild).
    """
    roles = {"reader_role": settings.reader_role, "writer_role": settings.writer_role}
    if always:
        await upgrade(MIGRATIONS, settings.migration_url, settings.schema_name, attributes=roles)
    else:
        await migrate_at_start(settings, MIGRATIONS, settings.schema_name, attributes=roles)


def engine_for(settings: LedgerSettings, *, url: str | None = None) -> AsyncEngine:
    """Return an engine whose connections resolve the ledger's tables in its schema, as the
    runtime login (or the login of ``url``).
    """
    return make_engine(
        url or settings.database_url, settings.schema_name, pool_size=settings.database_pool_size
    )

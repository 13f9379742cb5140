"""Compare a migrated Postgres schema with a service's declared tables."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, MetaData, inspect

from libs.common.db import make_engine


def _ours(_object: Any, name: str | None, kind: str, *_: Any) -> bool:
    """Leave out alembic's own table: it is not declared."""
    return not (kind == "table" and name == "alembic_version")


def _storage(conn: Connection, metadata: MetaData) -> list[tuple[str, object, object]]:
    """Tables whose storage parameters (``WITH (fillfactor …)``) differ: alembic skips them."""
    inspector = inspect(conn)
    return [
        (table.name, declared, reflected)
        for table in metadata.sorted_tables
        if (declared := table.dialect_options["postgresql"]["with"] or {})
        != (reflected := inspector.get_table_options(table.name).get("postgresql_with", {}))
    ]


async def schema_differences(url: str, schema: str, metadata: MetaData) -> list[Any]:
    """Return what tells ``schema`` (as migrated) apart from ``metadata``: alembic's
    autogenerate diff (tables, columns, types, nullability, defaults, keys, indexes) and the
    tables' storage parameters. Empty when they agree.
    """
    engine = make_engine(url, schema, pool_size=1)

    def differences(conn: Connection) -> list[Any]:
        options = {
            "compare_type": True,
            "compare_server_default": True,
            "include_object": _ours,
        }
        context = MigrationContext.configure(conn, opts=options)
        return [*compare_metadata(context, metadata), *_storage(conn, metadata)]

    try:
        async with engine.connect() as conn:
            return await conn.run_sync(differences)
    finally:
        await engine.dispose()

"""The migrations and the declaration agree: the router's tables are declared once
(`services.router.store.tables`), and the migrations, frozen as applied, arrive at them."""

from __future__ import annotations

from sqlalchemy import Column, MetaData, Text

from libs.common.db import upgrade
from services.router.store.tables import MIGRATIONS, metadata
from tests.helpers.namespaces import PgSchema
from tests.helpers.schema import schema_differences


async def test_the_migrated_schema_is_the_declared_one(pg_schema: PgSchema) -> None:
    await upgrade(MIGRATIONS, pg_schema.url, pg_schema.name)
    assert await schema_differences(pg_schema.url, pg_schema.name, metadata) == []


async def test_a_column_declared_but_never_migrated_is_told(pg_schema: PgSchema) -> None:
    await upgrade(MIGRATIONS, pg_schema.url, pg_schema.name)
    declared = MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(declared)
    declared.tables["trade_settings"].append_column(Column("note", Text, nullable=True))
    differences = await schema_differences(pg_schema.url, pg_schema.name, declared)
    assert [(d[0], d[2]) for d in differences] == [("add_column", "trade_settings")]

"""The migrations and the declaration agree: the ledger's tables are declared once
(`services.ledger.store.tables`), and the migrations, frozen as applied, arrive at them."""

from __future__ import annotations

from sqlalchemy import Column, MetaData, Text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.ledger.config import LedgerSettings
from services.ledger.store.tables import metadata
from tests.helpers.namespaces import PgSchema
from tests.helpers.schema import schema_differences


async def test_the_migrated_schema_is_the_declared_one(
    engine: AsyncEngine, settings: LedgerSettings, pg_schema: PgSchema
) -> None:
    assert await schema_differences(pg_schema.url, settings.schema_name, metadata) == []


def _copy() -> MetaData:
    copy = MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(copy)
    return copy


async def test_a_column_declared_but_never_migrated_is_told(
    engine: AsyncEngine, settings: LedgerSettings, pg_schema: PgSchema
) -> None:
    declared = _copy()
    declared.tables["trades"].append_column(Column("venue_note", Text, nullable=True))
    differences = await schema_differences(pg_schema.url, settings.schema_name, declared)
    assert [(d[0], d[2]) for d in differences] == [("add_column", "trades")]


async def test_a_table_declared_without_its_fillfactor_is_told(
    engine: AsyncEngine, settings: LedgerSettings, pg_schema: PgSchema
) -> None:
    declared = _copy()
    declared.tables["positions"].dialect_options["postgresql"]["with"] = None
    differences = await schema_differences(pg_schema.url, settings.schema_name, declared)
    assert differences == [("positions", {}, {"fillfactor": "70"})]

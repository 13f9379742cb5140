"""Tenant isolation is Postgres' doing (Row-Level Security), not only the queries' WHERE."""

from __future__ import annotations

import pytest
from nats.js import JetStreamContext
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.topology import Topology
from services.ledger.api.reads import Reads
from services.ledger.config import LedgerSettings
from services.ledger.handlers.projector import Projector
from tests.helpers.ledger import publish, rich_story, strategy_story
from tests.helpers.namespaces import PgSchema
from tests.helpers.rls import column, forced_rls, run_each
from tests.integration.ledger.futures import futures_story
from tests.integration.ledger.support import applied_through, count_rows

TENANT_TABLES = (
    "intents",
    "orders",
    "order_events",
    "trades",
    "positions",
    "daily_pnl",
    "marks",
    "funding",
    "strategy_daily",
    "strategy_totals",
)


@pytest.fixture
async def two_tenants(js: JetStreamContext, topology: Topology, projector: Projector) -> None:
    stories = [
        rich_story(t) + futures_story(t) + strategy_story(t) for t in ("tenant-a", "tenant-b")
    ]
    last = await publish(js, topology, [event for story in stories for event in story])
    await applied_through(projector, last)


@pytest.mark.usefixtures("two_tenants")
@pytest.mark.parametrize("table", TENANT_TABLES)
async def test_a_query_without_any_tenant_filter_returns_only_the_tenants_rows(
    settings: LedgerSettings, engine: AsyncEngine, pg_schema: PgSchema, table: str
) -> None:
    assert await count_rows(pg_schema.url, pg_schema.name, table, "tenant-b") > 0
    async with Reads(engine, settings.reader_role).as_tenant("tenant-a") as conn:
        seen = await column(conn, f"SELECT tenant_id FROM {table}")
    assert set(seen) == {"tenant-a"}
    assert len(seen) == await count_rows(pg_schema.url, pg_schema.name, table, "tenant-a")


@pytest.mark.usefixtures("two_tenants")
async def test_the_reader_role_without_a_tenant_sees_nothing(
    settings: LedgerSettings, engine: AsyncEngine
) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(f'SET LOCAL ROLE "{settings.reader_role}"'))
        assert (await conn.execute(text("SELECT count(*) FROM trades"))).scalar() == 0


@pytest.mark.usefixtures("two_tenants")
@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM trades",
        "UPDATE positions SET quantity = 0",
        "SELECT * FROM processed_events",
        "SET LOCAL row_security = off; SELECT * FROM trades",
    ],
)
async def test_the_reader_role_can_neither_write_nor_step_around_the_policies(
    settings: LedgerSettings, engine: AsyncEngine, statement: str
) -> None:
    reads = Reads(engine, settings.reader_role)

    async def attempt() -> None:
        async with reads.as_tenant("tenant-a") as conn:
            await run_each(conn, statement)

    with pytest.raises(ProgrammingError):
        await attempt()


async def test_the_tables_force_rls_and_the_roles_cannot_bypass_it(
    settings: LedgerSettings, engine: AsyncEngine, pg_schema: PgSchema
) -> None:
    roles = [settings.reader_role, settings.writer_role]
    forced, found = await forced_rls(pg_schema.url, pg_schema.name, roles)
    assert forced == set(TENANT_TABLES)
    assert sorted(role[:3] for role in found) == [
        (settings.reader_role, False, False),
        (settings.writer_role, False, False),
    ]

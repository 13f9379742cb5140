"""Order records ready together are written in one statement, each caller answered as alone."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.db import connect_as, database_unavailable, make_engine, upgrade
from libs.common.fsm import OrderState
from services.executor.config import executor_settings
from services.executor.domain import OrderRecord
from services.executor.orders.store import OrderStore
from services.executor.runtime import MIGRATIONS
from tests import factories
from tests.helpers.namespaces import PgSchema
from tests.helpers.polling import eventually

N = 8
# Backends waiting for a lock a given backend holds (this test's, and no other test's).
_WAITING_ON = "SELECT pid FROM pg_stat_activity WHERE pg_blocking_pids(pid) @> ARRAY[$1::int]"


@pytest.fixture
async def engine(pg_schema: PgSchema) -> AsyncIterator[AsyncEngine]:
    """The executor's schema, and an engine acting as its writer role (the order path's)."""
    await upgrade(MIGRATIONS, pg_schema.url, pg_schema.name)
    found = make_engine(pg_schema.url, pg_schema.name, pool_size=4)
    connect_as(found, executor_settings().writer_role)
    yield found
    await found.dispose()


@pytest.fixture
def inserts(engine: AsyncEngine) -> list[str]:
    """The INSERT statements ``engine`` sends, as they go."""
    sent: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT"):
            sent.append(statement)

    sa.event.listen(engine.sync_engine, "before_cursor_execute", seen)
    return sent


def pending(tenant_id: str, **changes: Any) -> OrderRecord:
    command = factories.place_order(tenant_id)
    record = OrderRecord.from_command(command, 0, OrderState.PENDING, factories.T0)
    return dataclasses.replace(record, amount=Decimal("0.015"), sent_at=factories.T0, **changes)


def _rows_per_statement() -> tuple[float, float]:
    name = "sparky_executor_group_insert_rows"
    count = REGISTRY.get_sample_value(f"{name}_count") or 0.0
    return count, REGISTRY.get_sample_value(f"{name}_sum") or 0.0


async def _count_orders(pg_schema: PgSchema) -> int:
    conn = await asyncpg.connect(pg_schema.url)
    try:
        return int(await conn.fetchval(f'SELECT count(*) FROM "{pg_schema.name}".orders'))
    finally:
        await conn.close()


async def test_orders_ready_together_are_recorded_in_one_statement(
    engine: AsyncEngine, inserts: list[str], pg_schema: PgSchema
) -> None:
    store = OrderStore(engine)
    records = [pending(f"tenant-{i}") for i in range(N)]
    statements_before, rows_before = _rows_per_statement()

    answers = await asyncio.gather(*(store.create(r) for r in records))

    assert answers == [(r, True) for r in records]
    assert len(inserts) == 1
    assert _rows_per_statement() == (statements_before + 1, rows_before + N)
    assert await _count_orders(pg_schema) == N
    assert await store.get(records[3].client_order_id) == records[3]  # every value kept


async def test_a_redelivered_order_among_new_ones_gets_the_existing_record(
    engine: AsyncEngine, inserts: list[str]
) -> None:
    store = OrderStore(engine)
    first = pending("tenant-a")
    await store.create(first)
    submitted = first.moved(OrderState.SUBMITTED, factories.T0, exchange_order_id="42")
    recorded = await store.save(submitted)
    again = dataclasses.replace(pending("tenant-a"), client_order_id=first.client_order_id)
    others = [pending(f"tenant-{i}") for i in range(3)]

    answers = await asyncio.gather(*(store.create(r) for r in [others[0], again, *others[1:]]))

    assert answers[1] == (recorded, False)
    assert [a for i, a in enumerate(answers) if i != 1] == [(r, True) for r in others]
    assert len(inserts) == 2  # the first create, then one for all four


async def test_the_same_order_twice_in_one_group_is_created_once(engine: AsyncEngine) -> None:
    store = OrderStore(engine)
    record = pending("tenant-a")
    twin = dataclasses.replace(pending("tenant-a"), client_order_id=record.client_order_id)

    answers = await asyncio.gather(store.create(record), store.create(twin))

    assert list(answers) == [(record, True), (record, False)]


async def test_a_database_failure_of_the_statement_fails_every_order_in_it(
    engine: AsyncEngine, pg_schema: PgSchema
) -> None:
    store = OrderStore(engine)
    admin = await asyncpg.connect(pg_schema.url)
    try:
        async with admin.transaction():
            await admin.execute(f'LOCK TABLE "{pg_schema.name}".orders IN ACCESS EXCLUSIVE MODE')
            creates = asyncio.gather(
                *(store.create(pending(f"tenant-{i}")) for i in range(N)), return_exceptions=True
            )
            waiting = await _waiting_on(pg_schema.url, admin.get_server_pid())
            assert len(waiting) == 1  # one statement for all of them
            await admin.execute("SELECT pg_terminate_backend($1)", waiting[0])
            failures = await creates
    finally:
        await admin.close()

    # Every order gets the outage, and retries it as today.
    assert all(isinstance(f, DBAPIError) and database_unavailable(f) for f in failures), failures
    assert await _count_orders(pg_schema) == 0
    assert await store.create(pending("tenant-z")) is not None  # the pool recovered


async def test_a_row_the_database_refuses_fails_its_own_order_only(
    engine: AsyncEngine, pg_schema: PgSchema
) -> None:
    admin = await asyncpg.connect(pg_schema.url)
    try:
        await admin.execute(
            f'ALTER TABLE "{pg_schema.name}".orders ADD CONSTRAINT no_bad CHECK (symbol <> $$BAD$$)'
        )
    finally:
        await admin.close()
    store = OrderStore(engine)
    good = [pending(f"tenant-{i}") for i in range(3)]
    bad = pending("tenant-bad", symbol="BAD")

    answers = await asyncio.gather(
        *(store.create(r) for r in [good[0], bad, *good[1:]]), return_exceptions=True
    )

    assert isinstance(answers[1], IntegrityError)
    assert [a for i, a in enumerate(answers) if i != 1] == [(r, True) for r in good]
    assert await _count_orders(pg_schema) == len(good)


async def _waiting_on(url: str, holder_pid: int) -> list[int]:
    """Return the backends waiting on a lock ``holder_pid`` holds, once there is one."""
    # Watched from a connection of its own: inside the holder's transaction, pg_stat_activity
    # would show the same snapshot until the transaction ends.
    watcher = await asyncpg.connect(url)

    async def waiting() -> list[int]:
        return [row["pid"] for row in await watcher.fetch(_WAITING_ON, holder_pid)]

    try:
        await eventually(waiting, what="an INSERT waiting on the lock", interval_s=0.02)
        await asyncio.sleep(0.2)  # any other statement would be waiting by now
        return await waiting()
    finally:
        await watcher.close()

"""Postgres I/O of order submissions and the strategy positions their fills move.

Every write is one statement, prebuilt once and run without ``BEGIN``/``COMMIT``; the engine's
connections act as the writer role (Row-Level Security: every order of every tenant).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from services.executor.domain import Held, OrderRecord, Protection
from services.executor.errors import StaleRecordError
from services.executor.metrics import GROUP_INSERT_ROWS
from services.executor.orders.grouping import GroupedInsert
from services.executor.store import TIMESTAMP, from_row, json_value, orders, positions, to_row

# Built once: constructing a statement from a record's ~25 values on every call (coercing each
# into a bound parameter, then computing the statement's cache key) cost more CPU than the
# round trips. These take the values as execution parameters instead.
_KEY = "k_client_order_id"
_SEEN = "k_version"
_ORDER_UPDATE = (
    orders.update()
    .where(orders.c.client_order_id == sa.bindparam(_KEY))
    .where(orders.c.version == sa.bindparam(_SEEN))
    .values({c.name: sa.bindparam(c.name, type_=c.type) for c in orders.c})
)


_COLUMNS = ", ".join(c.name for c in orders.c)
_PARAMS = ", ".join(f":{c.name}" for c in orders.c)
_ORDER_TYPES = [sa.bindparam(c.name, type_=c.type) for c in orders.c]
_DELTA, _FEES, _AT = "p_delta", "p_fees", "p_at"
_SAME_POSITION = (
    "p.tenant_id = o.tenant_id AND p.account_label = o.account_label AND p.symbol = o.symbol"
)
# The order and the strategy position it moves change in one statement: atomic without a
# transaction, so a fill is never counted twice nor lost, whatever crashes in between.
_INSERT_WRITING_OFF = sa.text(
    f"WITH o AS (INSERT INTO orders ({_COLUMNS}) VALUES ({_PARAMS}) "  # noqa: S608 - constants
    "ON CONFLICT DO NOTHING RETURNING tenant_id, account_label, symbol), "
    f"w AS (UPDATE positions p SET quantity = p.quantity - :{_DELTA}, updated_at = :{_AT} "
    f"FROM o WHERE {_SAME_POSITION} RETURNING p.quantity) "
    "SELECT count(*) FROM o"
).bindparams(
    *_ORDER_TYPES, sa.bindparam(_DELTA, type_=sa.Numeric), sa.bindparam(_AT, type_=TIMESTAMP)
)
_SETS = ", ".join(f"{c.name} = :{c.name}" for c in orders.c)
_UPDATE_MOVING = sa.text(
    f"WITH o AS (UPDATE orders SET {_SETS} WHERE client_order_id = :k_client_order_id "  # noqa: S608
    "AND version = :k_version RETURNING tenant_id, account_label, symbol) "
    "INSERT INTO positions AS p (tenant_id, account_label, symbol, quantity, coin_fees, "
    f"updated_at) SELECT tenant_id, account_label, symbol, :{_DELTA}, :{_FEES}, :{_AT} FROM o "
    "ON CONFLICT (tenant_id, account_label, symbol) DO UPDATE SET "
    "quantity = p.quantity + EXCLUDED.quantity, "
    "coin_fees = CASE WHEN p.quantity + EXCLUDED.quantity = 0 THEN 0 "
    "ELSE p.coin_fees + EXCLUDED.coin_fees END, updated_at = EXCLUDED.updated_at "
    "RETURNING p.quantity"
).bindparams(
    *_ORDER_TYPES,
    sa.bindparam(_DELTA, type_=sa.Numeric),
    sa.bindparam(_FEES, type_=sa.Numeric),
    sa.bindparam(_AT, type_=TIMESTAMP),
)
# Many records in one statement, as one JSON array (one parameter however many rows): the
# column list is explicit, so columns the table may gain later keep their defaults.
_INSERT_MANY = sa.text(
    f"INSERT INTO orders ({_COLUMNS}) SELECT {_COLUMNS} "  # noqa: S608 - constants
    "FROM jsonb_populate_recordset(NULL::orders, CAST(:rows AS jsonb)) "
    "ON CONFLICT DO NOTHING RETURNING client_order_id"
)
_POSITION = sa.select(positions.c.quantity, positions.c.coin_fees).where(
    (positions.c.tenant_id == sa.bindparam("t"))
    & (positions.c.account_label == sa.bindparam("a"))
    & (positions.c.symbol == sa.bindparam("s"))
)


class OrderStore:
    """Order submissions by client order id, written with optimistic concurrency, and the
    strategy positions their fills move.

    Each write is one statement, atomic on its own, so it runs without an explicit
    transaction (``AUTOCOMMIT``): no ``BEGIN``/``COMMIT`` round trips on the order path.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._single = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._grouped = GroupedInsert(self._create_many)

    async def create(self, record: OrderRecord) -> tuple[OrderRecord, bool]:
        """Record ``record`` unless its client order id exists; return what is recorded and
        whether this call recorded it. A record that writes coins off the strategy position
        takes them off in the same statement; other records ready at the same time as this
        one are written in the same statement (`GroupedInsert`).
        """
        if not record.written_off:
            return await self._grouped.add(record)
        async with self._single.connect() as conn:
            params = to_row(record) | {_DELTA: record.written_off, _AT: record.created_at}
            if (await conn.execute(_INSERT_WRITING_OFF, params)).scalar_one() > 0:
                return record, True
            # The insert found a committed row (unique key): read it as it is now.
            row = (await conn.execute(self._by_id(record.client_order_id))).mappings().one()
        return OrderRecord(**from_row(row)), False

    async def _create_many(self, records: Sequence[OrderRecord]) -> list[tuple[OrderRecord, bool]]:
        """Insert ``records`` in one statement; answer for each as `create` does."""
        rows = json.dumps([to_row(r) for r in records], default=json_value)
        async with self._single.connect() as conn:
            inserted = set((await conn.execute(_INSERT_MANY, {"rows": rows})).scalars())
            GROUP_INSERT_ROWS.observe(len(records))
            answers: list[tuple[OrderRecord, bool]] = []
            for record in records:
                created = record.client_order_id in inserted
                inserted.discard(record.client_order_id)  # a second one with its id was not
                answers.append((record, created))
            taken = [r.client_order_id for r, created in answers if not created]
            if not taken:
                return answers
            # Those found a committed row (unique key): read them as they are now.
            query = orders.select().where(orders.c.client_order_id.in_(taken))
            found = {
                row["client_order_id"]: OrderRecord(**from_row(row))
                for row in (await conn.execute(query)).mappings()
            }
        return [
            (r, True) if created else (found[r.client_order_id], False) for r, created in answers
        ]

    async def get(self, client_order_id: str) -> OrderRecord | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(self._by_id(client_order_id))).mappings().first()
        return OrderRecord(**from_row(row)) if row is not None else None

    async def save(self, record: OrderRecord, moved: Held | None = None) -> OrderRecord:
        """Write ``record`` over the version it was read at, adding ``moved`` (what its new
        fills add, and their fees in the coin) to its strategy position; raise
        `StaleRecordError` if another writer got there first.
        """
        saved = dataclasses.replace(record, version=record.version + 1)
        params = to_row(saved) | {_KEY: record.client_order_id, _SEEN: record.version}
        async with self._single.connect() as conn:
            if moved is not None and (moved.quantity or moved.coin_fees):
                params |= {_DELTA: moved.quantity, _FEES: moved.coin_fees, _AT: record.updated_at}
                done = (await conn.execute(_UPDATE_MOVING, params)).first() is not None
            else:
                done = bool((await conn.execute(_ORDER_UPDATE, params)).rowcount)
        if not done:
            raise StaleRecordError(f"order {record.client_order_id} changed meanwhile")
        return saved

    async def position(self, tenant_id: str, account_label: str, symbol: str) -> Held:
        """Return the strategy position: what Sparky's fills hold in ``symbol`` (0 if none)."""
        params = {"t": tenant_id, "a": account_label, "s": symbol}
        async with self._single.connect() as conn:
            found = (await conn.execute(_POSITION, params)).first()
        return Held() if found is None else Held(Decimal(found[0]), Decimal(found[1]))

    async def to_track(self, partitions: Sequence[int], limit: int = 500) -> list[OrderRecord]:
        """Return open orders, and unresolved ones already reported failed, oldest first."""
        tracked = (
            orders.c.state.in_(["submitted", "partially_filled"])
            | (orders.c.state.in_(["pending", "uncertain"]) & orders.c.failure_reported)
            | (orders.c.protection == Protection.OWED.value)
        )
        query = (
            orders.select()
            .where(tracked & orders.c.partition.in_(list(partitions)))
            .order_by(orders.c.updated_at)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [OrderRecord(**from_row(r)) for r in rows]

    async def open_in(self, tenant_id: str, account_label: str, symbol: str) -> list[OrderRecord]:
        """Return Sparky's open orders in ``symbol`` on the account (protective ones too)."""
        query = orders.select().where(
            (orders.c.tenant_id == tenant_id)
            & (orders.c.account_label == account_label)
            & (orders.c.symbol == symbol)
            & orders.c.state.in_(["submitted", "partially_filled"])
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [OrderRecord(**from_row(r)) for r in rows]

    async def children(self, parent_client_order_id: str) -> list[OrderRecord]:
        """Return the protective orders of an entry."""
        query = orders.select().where(orders.c.parent_client_order_id == parent_client_order_id)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [OrderRecord(**from_row(r)) for r in rows]

    async def positions_held(self, partitions: Sequence[int]) -> list[tuple[str, str, str]]:
        """Return (tenant, account, symbol) of every strategy position not flat whose tenant
        is in ``partitions`` (by the orders that moved them)."""
        query = (
            sa.select(positions.c.tenant_id, positions.c.account_label, positions.c.symbol)
            .where(positions.c.quantity != 0)
            .where(
                sa.exists().where(
                    (orders.c.tenant_id == positions.c.tenant_id)
                    & (orders.c.partition.in_(list(partitions)))
                )
            )
        )
        async with self.engine.connect() as conn:
            return [(r[0], r[1], r[2]) for r in (await conn.execute(query)).all()]

    @staticmethod
    def _by_id(client_order_id: str) -> sa.Select[Any]:
        return orders.select().where(orders.c.client_order_id == client_order_id)

"""Postgres I/O of accounts and order submissions (tables live in the engine's schema)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.common.messages import AccountMode, OrderType, Side
from libs.common.records import AccountStatus, MarketType
from services.executor.errors import ConflictError, StaleRecordError
from services.executor.lifecycle import OrderState
from services.executor.models import Account, OrderRecord

metadata = sa.MetaData()
_TZ = sa.DateTime(timezone=True)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("label", sa.Text, primary_key=True),
    sa.Column("exchange_id", sa.Text),
    sa.Column("mode", sa.Text),
    sa.Column("market_type", sa.Text),
    sa.Column("status", sa.Text),
    sa.Column("status_message", sa.Text),
    sa.Column("validated_at", _TZ),
    sa.Column("keys_updated_at", _TZ),
    sa.Column("created_at", _TZ),
    sa.Column("updated_at", _TZ),
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("client_order_id", sa.Text, primary_key=True),
    *(sa.Column(n, sa.Text) for n in ("tenant_id", "intent_id", "place_order_id")),
    sa.Column("partition", sa.Integer),
    *(sa.Column(n, sa.Text) for n in ("account_label", "exchange_id", "mode", "symbol")),
    *(sa.Column(n, sa.Text) for n in ("side", "order_type", "state", "exchange_order_id")),
    *(sa.Column(n, sa.Numeric) for n in ("amount", "price", "filled")),
    sa.Column("reported_trades", ARRAY(sa.Text)),
    sa.Column("sent_at", _TZ),
    sa.Column("reason", sa.Text),
    sa.Column("reason_code", sa.Text),
    sa.Column("failure_reported", sa.Boolean),
    sa.Column("version", sa.Integer),
    *(sa.Column(n, _TZ) for n in ("received_at", "created_at", "updated_at")),
)

_ENUMS: dict[str, Any] = {
    "mode": AccountMode,
    "market_type": MarketType,
    "status": AccountStatus,
    "side": Side,
    "order_type": OrderType,
    "state": OrderState,
}


def _values(row: object) -> dict[str, Any]:
    values = dataclasses.asdict(row)  # type: ignore[call-overload]
    out = {k: (v.value if k in _ENUMS else v) for k, v in values.items()}
    if "reported_trades" in out:
        out["reported_trades"] = list(out["reported_trades"])
    return out


def _typed(mapping: Any) -> dict[str, Any]:
    out = {k: (_ENUMS[k](v) if k in _ENUMS and v is not None else v) for k, v in mapping.items()}
    if "reported_trades" in out:
        out["reported_trades"] = tuple(out["reported_trades"] or ())
    return out


class AccountStore:
    """Exchange accounts' metadata, one row per (tenant, label)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def insert(self, conn: AsyncConnection, account: Account) -> None:
        """Insert ``account``; raise `ConflictError` when its label is taken."""
        try:
            async with conn.begin_nested():
                await conn.execute(accounts.insert().values(**_values(account)))
        except IntegrityError:
            raise ConflictError(
                "label_taken", f"You already have an account labelled '{account.label}'."
            ) from None

    async def save(self, conn: AsyncConnection, account: Account) -> None:
        """Overwrite the row of ``account``."""
        key = (accounts.c.tenant_id == account.tenant_id) & (accounts.c.label == account.label)
        await conn.execute(accounts.update().where(key).values(**_values(account)))

    async def lock_tenant(self, conn: AsyncConnection, tenant_id: str) -> None:
        """Serialise account changes of one tenant until ``conn``'s transaction ends."""
        await conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtext(:t))"), {"t": f"accounts:{tenant_id}"}
        )

    async def get(
        self,
        tenant_id: str,
        label: str,
        conn: AsyncConnection | None = None,
        *,
        for_update: bool = False,
    ) -> Account | None:
        query = accounts.select().where(
            (accounts.c.tenant_id == tenant_id) & (accounts.c.label == label)
        )
        if for_update:
            query = query.with_for_update()
        row = await self._one(query, conn)
        return Account(**_typed(row)) if row is not None else None

    async def of_tenant(self, tenant_id: str) -> list[Account]:
        query = (
            accounts.select().where(accounts.c.tenant_id == tenant_id).order_by(accounts.c.label)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [Account(**_typed(r)) for r in rows]

    async def count(self, conn: AsyncConnection, tenant_id: str) -> int:
        query = sa.select(sa.func.count()).where(accounts.c.tenant_id == tenant_id)
        return int((await conn.execute(query)).scalar_one())

    async def delete(self, conn: AsyncConnection, tenant_id: str, label: str) -> bool:
        key = (accounts.c.tenant_id == tenant_id) & (accounts.c.label == label)
        return bool((await conn.execute(accounts.delete().where(key))).rowcount)

    async def all(self) -> list[Account]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(accounts.select())).mappings().all()
        return [Account(**_typed(r)) for r in rows]

    async def _one(self, query: sa.Select[Any], conn: AsyncConnection | None) -> Any:
        if conn is not None:
            return (await conn.execute(query)).mappings().first()
        async with self.engine.connect() as own:
            return (await own.execute(query)).mappings().first()


class OrderStore:
    """Order submissions by client order id, written with optimistic concurrency."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def create(self, record: OrderRecord) -> tuple[OrderRecord, bool]:
        """Record ``record`` unless its client order id exists; return what is recorded and
        whether this call recorded it.
        """
        statement = insert(orders).values(**_values(record)).on_conflict_do_nothing()
        async with self.engine.begin() as conn:
            if (await conn.execute(statement.returning(orders.c.version))).first() is not None:
                return record, True
            row = (await conn.execute(self._by_id(record.client_order_id))).mappings().one()
        return OrderRecord(**_typed(row)), False

    async def get(self, client_order_id: str) -> OrderRecord | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(self._by_id(client_order_id))).mappings().first()
        return OrderRecord(**_typed(row)) if row is not None else None

    async def save(self, record: OrderRecord) -> OrderRecord:
        """Write ``record`` over the version it was read at; raise `StaleRecordError` if
        another writer got there first.
        """
        saved = dataclasses.replace(record, version=record.version + 1)
        statement = (
            orders.update()
            .where(orders.c.client_order_id == record.client_order_id)
            .where(orders.c.version == record.version)
            .values(**_values(saved))
        )
        async with self.engine.begin() as conn:
            if not (await conn.execute(statement)).rowcount:
                raise StaleRecordError(f"order {record.client_order_id} changed meanwhile")
        return saved

    async def to_track(self, partitions: Sequence[int], limit: int = 500) -> list[OrderRecord]:
        """Return open orders, and unresolved ones already reported failed, oldest first."""
        tracked = orders.c.state.in_(["submitted", "partially_filled"]) | (
            orders.c.state.in_(["pending", "unknown"]) & orders.c.failure_reported
        )
        query = (
            orders.select()
            .where(tracked & orders.c.partition.in_(list(partitions)))
            .order_by(orders.c.updated_at)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [OrderRecord(**_typed(r)) for r in rows]

    @staticmethod
    def _by_id(client_order_id: str) -> sa.Select[Any]:
        return orders.select().where(orders.c.client_order_id == client_order_id)

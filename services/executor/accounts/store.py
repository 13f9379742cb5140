"""Postgres I/O of exchange accounts: one row per (tenant, label), under Row-Level Security.

A tenant's request switches to the API role inside its own transaction (`as_tenant`); the
engine's own connections act as the writer role, which sees every account (the order path and
the bucket's re-sync).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.executor.domain import Account
from services.executor.errors import ConflictError
from services.executor.store import accounts, from_row, positions, to_row

_AS_TENANT = sa.text(
    "SELECT set_config('role', :role, true), set_config('sparky.tenant_id', :tenant, true)"
)


class AccountStore:
    """Exchange accounts' metadata, one row per (tenant, label).

    A tenant's reads and changes run in an `as_tenant` transaction; keyed look-ups name the
    whole key, listings and counts name no tenant (Row-Level Security picks the rows). Without
    a connection, `get` and `all` read as the engine's role: the order path's view.
    """

    def __init__(self, engine: AsyncEngine, api_role: str) -> None:
        self.engine = engine
        self._api_role = api_role

    @asynccontextmanager
    async def as_tenant(self, tenant_id: str) -> AsyncIterator[AsyncConnection]:
        """Open a transaction, as the API role, that sees and changes only ``tenant_id``'s rows."""
        async with self.engine.begin() as conn:
            await conn.execute(_AS_TENANT, {"role": self._api_role, "tenant": tenant_id})
            yield conn

    async def insert(self, conn: AsyncConnection, account: Account) -> None:
        """Insert ``account``; raise `ConflictError` when its label is taken."""
        try:
            async with conn.begin_nested():
                await conn.execute(accounts.insert().values(**to_row(account)))
        except IntegrityError:
            raise ConflictError(
                "label_taken", f"You already have an account labelled '{account.label}'."
            ) from None

    async def save(self, conn: AsyncConnection, account: Account) -> None:
        """Overwrite the row of ``account``."""
        key = (accounts.c.tenant_id == account.tenant_id) & (accounts.c.label == account.label)
        await conn.execute(accounts.update().where(key).values(**to_row(account)))

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
        return Account(**from_row(row)) if row is not None else None

    async def visible(self, conn: AsyncConnection) -> list[Account]:
        """Return the accounts ``conn`` may see (an `as_tenant` one: its tenant's), by label."""
        rows = (await conn.execute(accounts.select().order_by(accounts.c.label))).mappings()
        return [Account(**from_row(r)) for r in rows.all()]

    async def count(self, conn: AsyncConnection) -> int:
        """Count the accounts ``conn`` may see (an `as_tenant` one: its tenant's)."""
        query = sa.select(sa.func.count()).select_from(accounts)
        return int((await conn.execute(query)).scalar_one())

    async def delete(self, conn: AsyncConnection, tenant_id: str, label: str) -> bool:
        """Delete the account and its strategy positions; return whether it existed."""
        held = (positions.c.tenant_id == tenant_id) & (positions.c.account_label == label)
        await conn.execute(positions.delete().where(held))
        key = (accounts.c.tenant_id == tenant_id) & (accounts.c.label == label)
        return bool((await conn.execute(accounts.delete().where(key))).rowcount)

    async def all(self) -> list[Account]:
        """Return every tenant's accounts: as the engine's role (the writer), never a request's."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(accounts.select())).mappings().all()
        return [Account(**from_row(r)) for r in rows]

    async def _one(self, query: sa.Select[Any], conn: AsyncConnection | None) -> Any:
        if conn is not None:
            return (await conn.execute(query)).mappings().first()
        async with self.engine.connect() as own:
            return (await own.execute(query)).mappings().first()

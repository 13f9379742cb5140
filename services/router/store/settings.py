"""Trade settings in Postgres: layers, their versioned history, and what was in force when.

Every statement runs inside a transaction that first switches to the reader role (reads) or
the writer role (changes), neither with BYPASSRLS, and sets ``sparky.tenant_id``: the forced
row-level security policies then show and let change that tenant's rows only, even when the
service connects as the tables' owner or a superuser. Writes of one tenant take turns on an
advisory lock, so versions never collide.

A change that moves a kill switch also owes its ``settings.kill_switch`` event: a row of the
outbox, in the same transaction (`services.router.announcer` publishes and forgets it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.common.messages import KillSwitchChanged
from services.router.config import READER_ROLE, WRITER_ROLE
from services.router.domain.kill_switch import kill_switch_notice
from services.router.domain.layers import TenantSettings
from services.router.domain.trade_settings import TradeSettingsLayer
from services.router.errors import VersionConflictError, database_errors
from services.router.store.records import Change, LayerKey, StoredLayer, tenant_settings
from services.router.store.tables import kill_switch_outbox as outbox
from services.router.store.tables import trade_settings as ts
from services.router.store.tables import trade_settings_history as hist

HISTORY_PAGE = 100
OUTBOX_BATCH = 100
_AS_TENANT = text(
    "SELECT set_config('role', :role, true), set_config('sparky.tenant_id', :tenant, true)"
)


class SettingsStore:
    """Read and change one tenant's trade settings."""

    def __init__(
        self, engine: AsyncEngine, *, reader_role: str = READER_ROLE, writer_role: str = WRITER_ROLE
    ) -> None:
        self._engine = engine
        self._reader_role = reader_role
        self._writer_role = writer_role

    @asynccontextmanager
    async def as_tenant(
        self, tenant_id: str, *, write: bool = False
    ) -> AsyncIterator[AsyncConnection]:
        """Open a transaction, as the reader (or writer) role, bound to ``tenant_id``'s rows."""
        with database_errors():
            async with self._engine.begin() as conn:
                role = self._writer_role if write else self._reader_role
                await conn.execute(_AS_TENANT, {"role": role, "tenant": tenant_id})
                if write:
                    await conn.execute(
                        text("SELECT pg_advisory_xact_lock(hashtext('router-settings:' || :t))"),
                        {"t": tenant_id},
                    )
                yield conn

    async def layers(self, tenant_id: str) -> list[StoredLayer]:
        """Return every layer of the tenant (no tenant filter: row-level security is it)."""
        async with self.as_tenant(tenant_id) as conn:
            rows = await conn.execute(select(ts))
            return [StoredLayer.from_row(row) for row in rows.mappings()]

    async def load(self, tenant_id: str) -> TenantSettings:
        """Return the tenant's layers as the decisions use them."""
        return tenant_settings(
            (layer.key, layer.settings) for layer in await self.layers(tenant_id)
        )

    async def get(self, tenant_id: str, key: LayerKey) -> StoredLayer | None:
        """Return one layer, or None when it was never set (or deleted)."""
        async with self.as_tenant(tenant_id) as conn:
            return await _current(conn, tenant_id, key)

    async def put(
        self,
        tenant_id: str,
        key: LayerKey,
        layer: TradeSettingsLayer,
        *,
        by: str,
        now: datetime,
        expected_version: int | None = None,
    ) -> Change:
        """Replace one layer (create it if new); record the change; return it."""
        async with self.as_tenant(tenant_id, write=True) as conn:
            old = await _current(conn, tenant_id, key)
            _check_version(old, expected_version)
            version = await _next_version(conn, tenant_id, key)
            document = layer.model_dump(mode="json", exclude_none=True)
            values = {**key.columns(tenant_id), "settings": document, "version": version}
            stamped = {**values, "updated_at": now, "updated_by": by}
            upsert = pg_insert(ts).values(stamped)
            await conn.execute(
                upsert.on_conflict_do_update(index_elements=list(ts.primary_key), set_=stamped)
            )
            return await _record(conn, tenant_id, key, (version, by, now), old=old, new=layer)

    async def delete(
        self,
        tenant_id: str,
        key: LayerKey,
        *,
        by: str,
        now: datetime,
        expected_version: int | None = None,
    ) -> Change | None:
        """Remove one layer (its values are inherited again); None when there was none."""
        async with self.as_tenant(tenant_id, write=True) as conn:
            old = await _current(conn, tenant_id, key)
            if old is None:
                return None
            _check_version(old, expected_version)
            where = key.where(ts, tenant_id)
            await conn.execute(delete(ts).where(*where))
            return await _record(
                conn, tenant_id, key, (old.version + 1, by, now), old=old, new=None
            )

    async def history(
        self,
        tenant_id: str,
        key: LayerKey | None = None,
        *,
        before_id: int | None = None,
        limit: int = HISTORY_PAGE,
    ) -> list[Change]:
        """Return changes, newest first; ``before_id`` pages back through older ones."""
        query = select(hist)
        if key is not None:
            query = query.where(*key.where(hist, tenant_id))
        if before_id is not None:
            query = query.where(hist.c.id < before_id)
        query = query.order_by(hist.c.id.desc()).limit(limit)
        async with self.as_tenant(tenant_id) as conn:
            rows = await conn.execute(query)
            return [Change.from_row(row) for row in rows.mappings()]

    async def owed_notices(self, limit: int = OUTBOX_BATCH) -> list[tuple[int, KillSwitchChanged]]:
        """Return ``settings.kill_switch`` events still owed with their change ids, oldest
        first (every tenant's)."""
        query = select(outbox.c.change_id, outbox.c.event).order_by(outbox.c.change_id)
        async with self._as_writer() as conn:
            rows = await conn.execute(query.limit(limit))
            return [(row.change_id, KillSwitchChanged.model_validate(row.event)) for row in rows]

    async def notice_sent(self, change_id: int) -> None:
        """Forget the event owed for change ``change_id`` once JetStream stored it."""
        query = delete(outbox).where(outbox.c.change_id == change_id)
        async with self._as_writer() as conn:
            await conn.execute(query)

    @asynccontextmanager
    async def _as_writer(self) -> AsyncIterator[AsyncConnection]:
        """Open a transaction as the writer role, bound to no tenant: the outbox only."""
        with database_errors():
            async with self._engine.begin() as conn:
                await conn.execute(_AS_TENANT, {"role": self._writer_role, "tenant": ""})
                yield conn

    async def as_of(self, tenant_id: str, at: datetime) -> TenantSettings:
        """Return the layers that were in force at ``at``."""
        latest = (
            select(hist)
            .where(hist.c.changed_at <= at)
            .order_by(hist.c.account_label, hist.c.symbol, hist.c.id.desc())
            .ext(distinct_on(hist.c.account_label, hist.c.symbol))
        )
        async with self.as_tenant(tenant_id) as conn:
            changes = [Change.from_row(row) for row in (await conn.execute(latest)).mappings()]
        return tenant_settings(
            (c.key, TradeSettingsLayer.model_validate(c.new)) for c in changes if c.new is not None
        )


async def _current(conn: AsyncConnection, tenant_id: str, key: LayerKey) -> StoredLayer | None:
    result = await conn.execute(select(ts).where(*key.where(ts, tenant_id)))
    row = result.mappings().first()
    return StoredLayer.from_row(row) if row is not None else None


async def _next_version(conn: AsyncConnection, tenant_id: str, key: LayerKey) -> int:
    query = select(func.coalesce(func.max(hist.c.version), 0)).where(*key.where(hist, tenant_id))
    return int((await conn.execute(query)).scalar_one()) + 1


def _check_version(current: StoredLayer | None, expected: int | None) -> None:
    found = current.version if current is not None else 0
    if expected is not None and expected != found:
        raise VersionConflictError(found)


async def _record(
    conn: AsyncConnection,
    tenant_id: str,
    key: LayerKey,
    stamp: tuple[int, str, datetime],
    *,
    old: StoredLayer | None,
    new: TradeSettingsLayer | None,
) -> Change:
    version, by, now = stamp
    values = {
        **key.columns(tenant_id),
        "version": version,
        "changed_at": now,
        "changed_by": by,
        "old": _document(old.settings if old else None),
        "new": _document(new),
    }
    result = await conn.execute(insert(hist).values(values).returning(hist))
    change = Change.from_row(result.mappings().one())
    notice = kill_switch_notice(tenant_id, change)
    if notice is not None:  # owed from this commit until JetStream stored it
        event = notice.model_dump(mode="json")
        row = {"change_id": change.id, "tenant_id": tenant_id, "event": event, "created_at": now}
        await conn.execute(insert(outbox).values(row))
    return change


def _document(layer: TradeSettingsLayer | None) -> dict[str, Any] | None:
    return None if layer is None else layer.model_dump(mode="json", exclude_none=True)

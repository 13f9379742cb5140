"""Tenants and plans in Postgres."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import RowMapping, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.common.ids import TenantId
from libs.common.records import PlanLimits
from services.billing.domain.plans import LimitOverrides, PaymentState, Tenant
from services.billing.fsm import Lifecycle
from services.billing.store.tables import plans, tenants

_COLUMNS = (
    "tenant_id",
    "name",
    "plan",
    "grace_ends_at",
    "stripe_customer_id",
    "stripe_subscription_id",
    "subscription_status",
    "stripe_event_at",
    "created_at",
    "updated_at",
    "deleted_at",
)


def _tenant(row: RowMapping) -> Tenant:
    fields = {name: row[name] for name in _COLUMNS}
    return Tenant.model_validate(
        {
            **fields,
            "lifecycle": Lifecycle(row["lifecycle"]),
            "payment_state": PaymentState(row["payment_state"]),
            "overrides": LimitOverrides.model_validate(row["limit_overrides"]),
        }
    )


def _values(tenant: Tenant) -> dict[str, object]:
    return {
        **{name: getattr(tenant, name) for name in _COLUMNS},
        "lifecycle": tenant.lifecycle.value,
        "payment_state": tenant.payment_state.value,
        "limit_overrides": tenant.overrides.given(),
    }


async def insert_tenant(conn: AsyncConnection, tenant: Tenant) -> None:
    """Add a new tenant."""
    await conn.execute(insert(tenants).values(**_values(tenant)))


async def save_tenant(conn: AsyncConnection, tenant: Tenant) -> None:
    """Write every field of ``tenant`` over its row."""
    values = _values(tenant)
    del values["tenant_id"]
    await conn.execute(
        update(tenants).where(tenants.c.tenant_id == tenant.tenant_id).values(**values)
    )


async def get_tenant(
    conn: AsyncConnection, tenant_id: str, *, for_update: bool = False
) -> Tenant | None:
    """Return the tenant, locking its row until commit when ``for_update``."""
    query = select(tenants).where(tenants.c.tenant_id == tenant_id)
    query = query.with_for_update() if for_update else query
    row = (await conn.execute(query)).mappings().first()
    return _tenant(row) if row else None


async def tenant_of_customer(conn: AsyncConnection, customer_id: str) -> Tenant | None:
    """Return the tenant linked to a Stripe customer, locked for update."""
    query = select(tenants).where(tenants.c.stripe_customer_id == customer_id).with_for_update()
    row = (await conn.execute(query)).mappings().first()
    return _tenant(row) if row else None


async def list_tenants(
    conn: AsyncConnection, *, include_deleted: bool, after: str | None, limit: int | None
) -> list[Tenant]:
    """Return tenants in id (creation) order, after the id ``after``."""
    query = select(tenants).order_by(tenants.c.tenant_id).limit(limit)
    if not include_deleted:
        query = query.where(tenants.c.lifecycle != Lifecycle.DELETED.value)
    if after:
        query = query.where(tenants.c.tenant_id > after)
    return [_tenant(row) for row in (await conn.execute(query)).mappings()]


async def tenants_past_grace(conn: AsyncConnection, now: datetime) -> list[Tenant]:
    """Return (locked) tenants whose failed payment's grace period is over."""
    query = (
        select(tenants)
        .where(tenants.c.payment_state == PaymentState.GRACE.value)
        .where(tenants.c.grace_ends_at <= now)
        .with_for_update(skip_locked=True)
    )
    return [_tenant(row) for row in (await conn.execute(query)).mappings()]


async def load_plans(conn: AsyncConnection) -> dict[str, PlanLimits]:
    """Return every plan's limits by name."""
    rows = (await conn.execute(select(plans))).mappings()
    return {
        row["name"]: PlanLimits.model_validate({k: v for k, v in row.items() if k != "name"})
        for row in rows
    }


async def delete_tenant_row(conn: AsyncConnection, tenant_id: str) -> None:
    """Remove a tenant row (undoing a creation; its credentials must be gone first)."""
    await conn.execute(delete(tenants).where(tenants.c.tenant_id == tenant_id))


async def owe_deletion_notice(conn: AsyncConnection, tenant_id: str) -> None:
    """Record that ``tenant.deleted`` is owed for the tenant (in its deletion's transaction)."""
    await conn.execute(
        update(tenants).where(tenants.c.tenant_id == tenant_id).values(deletion_announced_at=None)
    )


async def deletion_notices_owed(
    conn: AsyncConnection, limit: int
) -> list[tuple[TenantId, datetime | None]]:
    """Return (tenant id, deleted at) of deleted tenants whose ``tenant.deleted`` is owed."""
    query = (
        select(tenants.c.tenant_id, tenants.c.deleted_at)
        .where(tenants.c.lifecycle == Lifecycle.DELETED.value)
        .where(tenants.c.deletion_announced_at.is_(None))
        .order_by(tenants.c.tenant_id)
        .limit(limit)
    )
    return [(row.tenant_id, row.deleted_at) for row in await conn.execute(query)]


async def deletion_announced(
    conn: AsyncConnection, tenant_id: str, deleted_at: datetime | None, now: datetime
) -> None:
    """Record that the deletion at ``deleted_at`` was announced (not a later one)."""
    await conn.execute(
        update(tenants)
        .where(tenants.c.tenant_id == tenant_id)
        .where(tenants.c.deleted_at.is_not_distinct_from(deleted_at))
        .values(deletion_announced_at=now)
    )

"""Payment notices owed, per tenant and grace period (migration 0008)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Column, ColumnElement, and_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.billing.domain.plans import PaymentState
from services.billing.fsm import Lifecycle
from services.billing.store.tables import tenants


class Notice(StrEnum):
    """Which notice: the column remembering the grace period it was stored for."""

    PAYMENT_FAILED = "payment_failed_notice_for"
    GRACE_ENDING = "grace_ending_notice_for"

    @property
    def column(self) -> Column[datetime]:
        return tenants.c[self.value]


@dataclass(frozen=True, slots=True)
class Owed:
    """One notice owed to one tenant for the grace period ending at ``grace_ends_at``."""

    notice: Notice
    tenant_id: str
    plan: str
    grace_ends_at: datetime


def _owed(notice: Notice) -> ColumnElement[bool]:
    return and_(
        tenants.c.lifecycle != Lifecycle.DELETED.value,
        tenants.c.grace_ends_at.is_not(None),
        notice.column.is_distinct_from(tenants.c.grace_ends_at),
    )


async def owed(conn: AsyncConnection, now: datetime, ahead: timedelta, limit: int) -> list[Owed]:
    """Return the notices owed: a failed payment's of every grace period (still running or
    already over), a grace period's end of those ending within ``ahead`` and not yet over."""
    failed = select(tenants).where(
        _owed(Notice.PAYMENT_FAILED),
        tenants.c.payment_state.in_((PaymentState.GRACE.value, PaymentState.LAPSED.value)),
    )
    ending = select(tenants).where(
        _owed(Notice.GRACE_ENDING),
        tenants.c.payment_state == PaymentState.GRACE.value,
        tenants.c.grace_ends_at > now,
        tenants.c.grace_ends_at <= now + ahead,
    )
    found: list[Owed] = []
    for notice, query in ((Notice.PAYMENT_FAILED, failed), (Notice.GRACE_ENDING, ending)):
        rows = await conn.execute(query.order_by(tenants.c.tenant_id).limit(limit))
        found += [
            Owed(notice, row["tenant_id"], row["plan"], row["grace_ends_at"])
            for row in rows.mappings()
        ]
    return found


async def stored(conn: AsyncConnection, owed: Owed) -> None:
    """Record that JetStream stored ``owed`` (for its grace period, not a later one)."""
    await conn.execute(
        update(tenants)
        .where(tenants.c.tenant_id == owed.tenant_id)
        .values({owed.notice.value: owed.grace_ends_at})
    )

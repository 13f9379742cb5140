"""Stripe events already applied: the table that makes a redelivery a no-op."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.billing.store.tables import stripe_events


async def claim(
    conn: AsyncConnection, event_id: str, event_type: str, created: datetime, now: datetime
) -> bool:
    """Record that ``event_id`` is being applied; False if it was already.

    A concurrent delivery of the same event waits on the first one's row lock and then
    finds it claimed, so an event is applied once even when Stripe sends it three times.
    """
    result = await conn.execute(
        insert(stripe_events)
        .values(
            event_id=event_id,
            type=event_type,
            created_at=created,
            received_at=now,
            outcome="received",
        )
        .on_conflict_do_nothing()
        .returning(stripe_events.c.event_id)
    )
    return result.first() is not None


async def settle(conn: AsyncConnection, event_id: str, tenant_id: str | None, outcome: str) -> None:
    """Record whose the event was and what it did."""
    await conn.execute(
        update(stripe_events)
        .where(stripe_events.c.event_id == event_id)
        .values(tenant_id=tenant_id, outcome=outcome[:500])
    )


async def purge(conn: AsyncConnection, tenant_id: str) -> None:
    """Delete the tenant's Stripe event log."""
    await conn.execute(delete(stripe_events).where(stripe_events.c.tenant_id == tenant_id))

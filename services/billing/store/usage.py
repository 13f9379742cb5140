"""Usage counters in Postgres, updated exactly once per event, a batch per transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.billing.tables import usage_counters, usage_filled_orders, usage_processed
from services.billing.usage import Count, Period

CounterKey = tuple[str, str, date, str]  # tenant, period, period start, metric


async def record(conn: AsyncConnection, counts: Sequence[Count], now: datetime) -> int:
    """Add ``counts`` to the counters, skipping messages counted before; return how many
    messages were new. Run it in the transaction that commits the counters, so a redelivery
    after a crash either finds a message counted or counts it.
    """
    unique = list({c.message_id: c for c in counts}.values())
    if not unique:
        return 0
    claimed = await conn.execute(
        insert(usage_processed)
        .values(
            [
                {"message_id": c.message_id, "tenant_id": c.tenant_id, "processed_at": now}
                for c in unique
            ]
        )
        .on_conflict_do_nothing()
        .returning(usage_processed.c.message_id)
    )
    new = set(claimed.scalars())
    fresh = [c for c in unique if c.message_id in new]
    await _add(conn, await _first_fills_only(conn, fresh))
    return len(fresh)


async def _first_fills_only(conn: AsyncConnection, counts: list[Count]) -> list[Count]:
    """Drop fills of orders already counted (earlier, or earlier in this batch)."""
    keys = {(c.tenant_id, c.once_per_order) for c in counts if c.once_per_order is not None}
    if not keys:
        return counts
    inserted = await conn.execute(
        insert(usage_filled_orders)
        .values([{"tenant_id": t, "client_order_id": o} for t, o in sorted(keys)])
        .on_conflict_do_nothing()
        .returning(usage_filled_orders.c.tenant_id, usage_filled_orders.c.client_order_id)
    )
    first = {(row.tenant_id, row.client_order_id) for row in inserted}
    kept = []
    for count in counts:
        key = (count.tenant_id, count.once_per_order)
        if count.once_per_order is None or key in first:
            first.discard(key)
            kept.append(count)
    return kept


async def _add(conn: AsyncConnection, counts: list[Count]) -> None:
    totals: Counter[CounterKey] = Counter()
    for count in counts:
        for period, start in ((Period.DAY, count.day), (Period.MONTH, count.month)):
            for metric in count.metrics:
                totals[(count.tenant_id, period.value, start, metric)] += 1
    if not totals:
        return
    names = ("tenant_id", "period", "period_start", "metric")
    # Sorted, so that two batches touching the same counters lock them in the same order.
    rows = [{**dict(zip(names, key, strict=True)), "count": n} for key, n in sorted(totals.items())]
    query = insert(usage_counters).values(rows)
    await conn.execute(
        query.on_conflict_do_update(
            index_elements=list(usage_counters.primary_key.columns),
            set_={"count": usage_counters.c.count + query.excluded.count},
        )
    )


async def counters(
    conn: AsyncConnection, period: Period, start: date, end: date, tenant_id: str | None
) -> list[tuple[str, date, str, int]]:
    """Return ``(tenant, period_start, metric, count)`` rows between two period starts."""
    query = select(
        usage_counters.c.tenant_id,
        usage_counters.c.period_start,
        usage_counters.c.metric,
        usage_counters.c.count,
    ).where(
        usage_counters.c.period == period.value,
        usage_counters.c.period_start.between(start, end),
    )
    if tenant_id is not None:
        query = query.where(usage_counters.c.tenant_id == tenant_id)
    rows = (await conn.execute(query)).mappings()
    return [(r["tenant_id"], r["period_start"], r["metric"], int(r["count"])) for r in rows]


async def purge(conn: AsyncConnection, tenant_id: str) -> None:
    """Delete everything usage keeps about a tenant."""
    for table in (usage_counters, usage_filled_orders, usage_processed):
        await conn.execute(delete(table).where(table.c.tenant_id == tenant_id))

"""Usage counters in Postgres, updated exactly once per event, a batch per transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, Text, bindparam, delete, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from services.billing.domain.usage import Count, Period
from services.billing.store.tables import usage_counters, usage_filled_orders, usage_processed

CounterKey = tuple[str, str, date, str]  # tenant, period, period start, metric


# Prebuilt statements with the batch's rows as arrays (``unnest``): compiled and prepared
# once, where a multi-row ``VALUES`` is compiled again for every batch size (that compile cost
# more CPU than everything else billing does per alert).
_CLAIM = text(
    "INSERT INTO usage_processed (message_id, tenant_id, processed_at) "
    "SELECT m, t, :now FROM unnest(:ids, :tenants) AS u(m, t) "
    "ON CONFLICT DO NOTHING RETURNING message_id"
).bindparams(
    bindparam("ids", type_=ARRAY(Text)),
    bindparam("tenants", type_=ARRAY(Text)),
    bindparam("now", type_=DateTime(timezone=True)),
)
_FIRST_FILLS = text(
    "INSERT INTO usage_filled_orders (tenant_id, client_order_id) "
    "SELECT t, o FROM unnest(:tenants, :orders) AS u(t, o) "
    "ON CONFLICT DO NOTHING RETURNING tenant_id, client_order_id"
).bindparams(bindparam("tenants", type_=ARRAY(Text)), bindparam("orders", type_=ARRAY(Text)))
_ADD = text(
    "INSERT INTO usage_counters (tenant_id, period, period_start, metric, count) "
    "SELECT * FROM unnest(:tenants, :periods, :starts, :metrics, :counts) "
    "AS u(tenant_id, period, period_start, metric, count) ORDER BY 1, 2, 3, 4 "
    "ON CONFLICT (tenant_id, period, period_start, metric) "
    "DO UPDATE SET count = usage_counters.count + EXCLUDED.count"
).bindparams(
    bindparam("tenants", type_=ARRAY(Text)),
    bindparam("periods", type_=ARRAY(Text)),
    bindparam("starts", type_=ARRAY(Date)),
    bindparam("metrics", type_=ARRAY(Text)),
    bindparam("counts", type_=ARRAY(BigInteger)),
)


async def record(conn: AsyncConnection, counts: Sequence[Count], now: datetime) -> int:
    """Add ``counts`` to the counters, skipping messages counted before; return how many
    messages were new. Run it in the transaction that commits the counters, so a redelivery
    after a crash either finds a message counted or counts it.
    """
    unique = list({c.message_id: c for c in counts}.values())
    if not unique:
        return 0
    params = {
        "ids": [c.message_id for c in unique],
        "tenants": [c.tenant_id for c in unique],
        "now": now,
    }
    new = set((await conn.execute(_CLAIM, params)).scalars())
    fresh = [c for c in unique if c.message_id in new]
    await _add(conn, await _first_fills_only(conn, fresh))
    return len(fresh)


async def _first_fills_only(conn: AsyncConnection, counts: list[Count]) -> list[Count]:
    """Drop fills of orders already counted (earlier, or earlier in this batch)."""
    keys = sorted({(c.tenant_id, c.once_per_order) for c in counts if c.once_per_order is not None})
    if not keys:
        return counts
    params = {"tenants": [t for t, _ in keys], "orders": [o for _, o in keys]}
    inserted = await conn.execute(_FIRST_FILLS, params)
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
    # Sorted, so that two batches touching the same counters lock them in the same order.
    rows = sorted(totals.items())
    await conn.execute(
        _ADD,
        {
            "tenants": [key[0] for key, _ in rows],
            "periods": [key[1] for key, _ in rows],
            "starts": [key[2] for key, _ in rows],
            "metrics": [key[3] for key, _ in rows],
            "counts": [n for _, n in rows],
        },
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

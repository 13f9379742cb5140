"""The alert feed's queries, under RLS like every read (`Reads.as_tenant`).

Only alerts a webhook received are in the feed (``webhook_id`` set): a cancel asked through
the API is an intent too, but no alert. Pages are newest first by ``(received_at,
intent_id)``, a key, not an offset; the stream follows ``seq``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select, tuple_

from services.ledger.api.cursor import Cursor
from services.ledger.api.feed_schemas import (
    AlertDetailOut,
    AlertEventOut,
    AlertOut,
    AlertsOut,
    DailyPnlListOut,
    DailyPnlOut,
    StrategiesOut,
    StrategyOut,
)
from services.ledger.api.reads import Reads
from services.ledger.domain.positions import ENTRY, EXACT, ZERO
from services.ledger.store.tables import INTENTS, STRATEGY_DAILY, STRATEGY_TOTALS

Row = Mapping[Any, Any]
_IN_FEED = INTENTS.c.webhook_id.is_not(None)
_FEED = select(INTENTS).where(_IN_FEED)


@dataclass(frozen=True, slots=True)
class AlertFilters:
    status: str | None = None
    symbol: str | None = None
    strategy: str | None = None
    start: datetime | None = None  # inclusive
    end: datetime | None = None  # exclusive


class Feed:
    """Read one tenant's alerts, strategies and daily PnL."""

    def __init__(self, reads: Reads) -> None:
        self._reads = reads

    async def alerts(
        self, tenant_id: str, filters: AlertFilters, *, after: Cursor | None, limit: int
    ) -> AlertsOut:
        """Return one page of alerts, newest first, and the cursor of the next page."""
        query = _filtered(filters, after).limit(limit + 1)
        rows = await self._rows(tenant_id, query)
        page = [alert(row) for row in rows[:limit]]
        more = len(rows) > limit
        next_cursor = Cursor(page[-1].received_at, page[-1].intent_id).encode() if more else None
        return AlertsOut(alerts=page, next_cursor=next_cursor)

    async def changes(self, tenant_id: str, after_seq: int, limit: int) -> list[AlertOut]:
        """Return the alerts changed since ``after_seq``, in the order they changed."""
        query = _FEED.where(INTENTS.c.seq > after_seq).order_by(INTENTS.c.seq).limit(limit)
        return [alert(row) for row in await self._rows(tenant_id, query)]

    async def last_seq(self, tenant_id: str) -> int:
        """Return the number of the tenant's latest change (0 before any)."""
        query = select(func.coalesce(func.max(INTENTS.c.seq), 0)).where(_IN_FEED)
        async with self._reads.as_tenant(tenant_id) as conn:
            return int((await conn.execute(query)).scalar_one())

    async def detail(self, tenant_id: str, intent_id: str) -> AlertDetailOut | None:
        """Return one alert and its trail, or None when the tenant has no such alert."""
        rows = await self._rows(tenant_id, _FEED.where(INTENTS.c.intent_id == intent_id))
        if not rows:
            return None
        out = alert(rows[0])
        trail = await self._reads.trail(tenant_id, intent_id)
        orders = trail.orders if trail is not None else []
        events = [
            AlertEventOut(
                **event.model_dump(),
                client_order_id=order.client_order_id,
                after_ms=_ms(out.received_at, event.occurred_at),
            )
            for order in orders
            for event in order.history
        ]
        events.sort(key=lambda e: e.occurred_at)
        fills = sorted((f for o in orders for f in o.fills), key=lambda f: f.time)
        return AlertDetailOut(alert=out, orders=orders, fills=fills, events=events)

    async def strategies(self, tenant_id: str) -> StrategiesOut:
        """Return one entry per strategy seen in the tenant's alerts, by name (the figures the
        projector keeps in ``strategy_totals``: a few rows per strategy, not every alert)."""
        query = select(STRATEGY_TOTALS).where(STRATEGY_TOTALS.c.alerts > 0)
        counts: dict[str, Row] = {}
        pnl: dict[str, dict[str, Decimal]] = defaultdict(dict)
        for row in await self._rows(tenant_id, query):
            if row["currency"]:
                pnl[row["strategy"]][row["currency"]] = row["realized_pnl"]
            else:
                counts[row["strategy"]] = row
        return StrategiesOut(
            strategies=[_strategy(counts[name], pnl[name]) for name in sorted(counts)]
        )

    async def daily(
        self, tenant_id: str, strategy: str | None, start: date | None, end: date | None
    ) -> DailyPnlListOut:
        """Return realized PnL per UTC day and currency, oldest first, with running totals
        from the first day asked for."""
        query = select(
            STRATEGY_DAILY.c.day,
            STRATEGY_DAILY.c.currency,
            func.sum(STRATEGY_DAILY.c.realized_pnl).label("realized_pnl"),
            func.sum(STRATEGY_DAILY.c.fills).label("fills"),
        ).group_by(STRATEGY_DAILY.c.day, STRATEGY_DAILY.c.currency)
        if strategy is not None:
            query = query.where(STRATEGY_DAILY.c.strategy == strategy)
        if start is not None:
            query = query.where(STRATEGY_DAILY.c.day >= start)
        if end is not None:
            query = query.where(STRATEGY_DAILY.c.day <= end)
        query = query.order_by(STRATEGY_DAILY.c.day, STRATEGY_DAILY.c.currency)
        totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
        days = []
        for row in await self._rows(tenant_id, query):
            total = totals[row["currency"]] = EXACT.add(
                totals[row["currency"]], row["realized_pnl"]
            )
            days.append(
                DailyPnlOut(
                    day=row["day"],
                    currency=row["currency"],
                    realized_pnl=row["realized_pnl"],
                    cumulative_pnl=total,
                    trades=int(row["fills"]),
                )
            )
        return DailyPnlListOut(days=days)

    async def _rows(self, tenant_id: str, query: Select[Any]) -> Sequence[Row]:
        async with self._reads.as_tenant(tenant_id) as conn:
            rows: Sequence[Row] = (await conn.execute(query)).mappings().all()
        return rows


def alert(row: Row) -> AlertOut:
    """Return a feed row as the API shows it."""
    filled: Decimal = row["filled_amount"]
    return AlertOut(
        intent_id=row["intent_id"],
        webhook_id=row["webhook_id"],
        received_at=row["received_at"],
        updated_at=row["updated_at"],
        action=row["action"],
        symbol=row["symbol"],
        strategy=row["strategy"],
        status=row["feed_status"],
        outcome=row["outcome"],
        reason=row["reason"],
        filled_amount=filled if filled else None,
        average_price=ENTRY.divide(row["filled_notional"], filled) if filled else None,
        seq=row["seq"],
    )


def _filtered(filters: AlertFilters, after: Cursor | None) -> Select[Any]:
    query = _FEED.order_by(INTENTS.c.received_at.desc(), INTENTS.c.intent_id.desc())
    if filters.status is not None:
        query = query.where(INTENTS.c.feed_status == filters.status)
    if filters.symbol is not None:
        query = query.where(INTENTS.c.symbol == filters.symbol)
    if filters.strategy is not None:
        query = query.where(INTENTS.c.strategy == filters.strategy)
    if filters.start is not None:
        query = query.where(INTENTS.c.received_at >= filters.start)
    if filters.end is not None:
        query = query.where(INTENTS.c.received_at < filters.end)
    if after is not None:
        key = tuple_(INTENTS.c.received_at, INTENTS.c.intent_id)
        query = query.where(key < tuple_(after.time, after.id))
    return query


def _strategy(counts: Row, pnl: dict[str, Decimal]) -> StrategyOut:
    wins, losses = counts["wins"], counts["losses"]
    single = next(iter(pnl)) if len(pnl) == 1 else None
    return StrategyOut(
        strategy=counts["strategy"],
        alerts=counts["alerts"],
        trades=counts["trades"],
        wins=wins,
        losses=losses,
        win_rate=wins / (wins + losses) if wins + losses else None,
        realized_pnl=pnl[single] if single is not None else (ZERO if not pnl else None),
        currency=single,
        realized_pnl_by_currency=dict(sorted(pnl.items())),
        last_signal_at=counts["last_signal_at"],
    )


def _ms(start: datetime, at: datetime) -> int:
    return int((at - start).total_seconds() * 1000)

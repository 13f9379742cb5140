"""The read API's queries, each in a transaction that can only see one tenant's rows.

No query here filters by tenant: Row-Level Security does. Each transaction switches to the
reader role (no BYPASSRLS, SELECT only) and sets ``sparky.tenant_id``; the tables' policies
then hide every other tenant's rows, whatever the SQL says.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.ledger import views
from services.ledger.cursor import Cursor
from services.ledger.read_tables import DAILY, INTENTS, ORDER_EVENTS, ORDERS, POSITIONS, TRADES
from services.ledger.schemas import PnlOut, PositionsOut, TradeOut, TradesOut, TrailOut

_AS_TENANT = text(
    "SELECT set_config('role', :role, true), set_config('sparky.tenant_id', :tenant, true)"
)


@dataclass(frozen=True, slots=True)
class TradeFilters:
    account: str | None = None
    symbol: str | None = None
    start: datetime | None = None  # inclusive
    end: datetime | None = None  # exclusive


@dataclass(frozen=True, slots=True)
class PnlFilters:
    account: str | None = None
    currency: str | None = None
    start: date | None = None  # inclusive
    end: date | None = None  # inclusive


class Reads:
    """Read one tenant's projections, under RLS."""

    def __init__(self, engine: AsyncEngine, role: str) -> None:
        self._engine = engine
        self._role = role

    @asynccontextmanager
    async def as_tenant(self, tenant_id: str) -> AsyncIterator[AsyncConnection]:
        """Open a transaction, as the reader role, that sees only ``tenant_id``'s rows."""
        async with self._engine.begin() as conn:
            await conn.execute(_AS_TENANT, {"role": self._role, "tenant": tenant_id})
            yield conn

    async def positions(
        self, tenant_id: str, account: str | None, symbol: str | None
    ) -> PositionsOut:
        """Return the tenant's positions, by account and symbol."""
        query = select(POSITIONS).order_by(POSITIONS.c.account_label, POSITIONS.c.symbol)
        if account is not None:
            query = query.where(POSITIONS.c.account_label == account)
        if symbol is not None:
            query = query.where(POSITIONS.c.symbol == symbol)
        async with self.as_tenant(tenant_id) as conn:
            rows = (await conn.execute(query)).mappings().all()
        return PositionsOut(positions=[views.position(row) for row in rows])

    async def trades(
        self, tenant_id: str, filters: TradeFilters, *, after: Cursor | None, limit: int
    ) -> TradesOut:
        """Return one page of trades, newest first, and the cursor of the next page."""
        query = _trades(filters, after).limit(limit + 1)
        async with self.as_tenant(tenant_id) as conn:
            rows = (await conn.execute(query)).mappings().all()
        page = [views.trade(row) for row in rows[:limit]]
        more = len(rows) > limit
        next_cursor = Cursor(page[-1].time, page[-1].id).encode() if more else None
        return TradesOut(trades=page, next_cursor=next_cursor)

    async def all_trades(
        self, tenant_id: str, filters: TradeFilters, *, chunk: int = 2000
    ) -> AsyncIterator[list[TradeOut]]:
        """Yield every matching trade, newest first, a chunk (and a short transaction) at a time."""
        after: Cursor | None = None
        while True:
            page = await self.trades(tenant_id, filters, after=after, limit=chunk)
            if page.trades:
                yield page.trades
            if page.next_cursor is None:
                return
            after = Cursor(page.trades[-1].time, page.trades[-1].id)

    async def pnl(self, tenant_id: str, filters: PnlFilters, *, limit: int) -> PnlOut:
        """Return daily realized PnL and fees, newest day first."""
        query = select(DAILY).order_by(DAILY.c.day.desc(), DAILY.c.account_label, DAILY.c.currency)
        if filters.account is not None:
            query = query.where(DAILY.c.account_label == filters.account)
        if filters.currency is not None:
            query = query.where(DAILY.c.currency == filters.currency.upper())
        if filters.start is not None:
            query = query.where(DAILY.c.day >= filters.start)
        if filters.end is not None:
            query = query.where(DAILY.c.day <= filters.end)
        async with self.as_tenant(tenant_id) as conn:
            rows = (await conn.execute(query.limit(limit))).mappings().all()
        return PnlOut(days=[views.day(row) for row in rows])

    async def trail(self, tenant_id: str, intent_id: str) -> TrailOut | None:
        """Return what became of one alert, or None when the tenant has no such alert."""
        async with self.as_tenant(tenant_id) as conn:
            intent = (
                (await conn.execute(select(INTENTS).where(INTENTS.c.intent_id == intent_id)))
                .mappings()
                .first()
            )
            orders = (
                (
                    await conn.execute(
                        select(ORDERS)
                        .where(ORDERS.c.intent_id == intent_id)
                        .order_by(ORDERS.c.created_at, ORDERS.c.client_order_id)
                    )
                )
                .mappings()
                .all()
            )
            history = (
                (
                    await conn.execute(
                        select(ORDER_EVENTS)
                        .where(ORDER_EVENTS.c.intent_id == intent_id)
                        .order_by(ORDER_EVENTS.c.stream_seq)
                    )
                )
                .mappings()
                .all()
            )
            ids = [order["client_order_id"] for order in orders]
            fills = (
                (
                    await conn.execute(
                        select(TRADES)
                        .where(TRADES.c.client_order_id.in_(ids))
                        .order_by(TRADES.c.filled_at, TRADES.c.id)
                    )
                )
                .mappings()
                .all()
            )
        if intent is None and not orders:
            return None
        return views.trail(intent_id, intent, orders, history, fills)


def _trades(filters: TradeFilters, after: Cursor | None) -> Select[tuple[object, ...]]:
    query = select(TRADES).order_by(TRADES.c.filled_at.desc(), TRADES.c.id.desc())
    if filters.account is not None:
        query = query.where(TRADES.c.account_label == filters.account)
    if filters.symbol is not None:
        query = query.where(TRADES.c.symbol == filters.symbol)
    if filters.start is not None:
        query = query.where(TRADES.c.filled_at >= filters.start)
    if filters.end is not None:
        query = query.where(TRADES.c.filled_at < filters.end)
    if after is not None:
        query = query.where(tuple_(TRADES.c.filled_at, TRADES.c.id) < tuple_(after.time, after.id))
    return query

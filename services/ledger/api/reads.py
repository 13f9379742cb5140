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
from typing import Any

from sqlalchemy import Select, and_, func, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.common.ids import ClientOrderId, IntentId
from services.ledger.api import views
from services.ledger.api.cursor import Cursor
from services.ledger.api.schemas import (
    FundingListOut,
    PnlOut,
    PositionsOut,
    TradeOut,
    TradesOut,
    TrailOut,
)
from services.ledger.api.totals import Totals
from services.ledger.store.tables import (
    DAILY,
    FUNDING,
    INTENTS,
    MARKS,
    ORDER_EVENTS,
    ORDERS,
    POSITIONS,
    TRADES,
)

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


@dataclass(frozen=True, slots=True)
class OrderOnFile:
    """What a cancel needs to know of an order, as the tenant's projection shows it."""

    client_order_id: ClientOrderId
    intent_id: IntentId
    account_label: str
    exchange_id: str
    symbol: str
    status: str
    last_message_id: str | None  # of its latest event


# Positions with the venue's latest mark of each, when there is one.
_MARKED = POSITIONS.outerjoin(
    MARKS,
    and_(MARKS.c.account_label == POSITIONS.c.account_label, MARKS.c.symbol == POSITIONS.c.symbol),
)
_POSITIONS = select(
    POSITIONS,
    MARKS.c.mark_price,
    MARKS.c.unrealized_pnl.label("venue_unrealized_pnl"),
    MARKS.c.quantity.label("venue_quantity"),
    MARKS.c.entry_price.label("venue_entry_price"),
    MARKS.c.liquidation_price,
    MARKS.c.marked_at,
).select_from(_MARKED)


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
        query = _POSITIONS.order_by(POSITIONS.c.account_label, POSITIONS.c.symbol)
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
        """Return daily realized PnL, fees and funding, newest day first, and the totals per
        account and currency with the open positions' unrealized PnL.
        """
        days = _days(select(DAILY), filters).order_by(
            DAILY.c.day.desc(), DAILY.c.account_label, DAILY.c.currency
        )
        sums = _days(
            select(
                DAILY.c.account_label,
                DAILY.c.currency,
                func.sum(DAILY.c.realized_pnl).label("realized_pnl"),
                func.sum(DAILY.c.fees).label("fees"),
                func.sum(DAILY.c.funding).label("funding"),
            ),
            filters,
        ).group_by(DAILY.c.account_label, DAILY.c.currency)
        marked = _POSITIONS.where(POSITIONS.c.quantity != 0, MARKS.c.mark_price.is_not(None))
        if filters.account is not None:
            marked = marked.where(POSITIONS.c.account_label == filters.account)
        async with self.as_tenant(tenant_id) as conn:
            rows = (await conn.execute(days.limit(limit))).mappings().all()
            totals = Totals.of(
                (await conn.execute(sums)).mappings().all(),
                (await conn.execute(marked)).mappings().all(),
            )
        return PnlOut(
            days=[views.day(row) for row in rows], totals=totals.out(currency=filters.currency)
        )

    async def funding(self, tenant_id: str, filters: TradeFilters, *, limit: int) -> FundingListOut:
        """Return funding payments, newest first."""
        query = select(FUNDING).order_by(FUNDING.c.paid_at.desc(), FUNDING.c.id.desc())
        if filters.account is not None:
            query = query.where(FUNDING.c.account_label == filters.account)
        if filters.symbol is not None:
            query = query.where(FUNDING.c.symbol == filters.symbol)
        if filters.start is not None:
            query = query.where(FUNDING.c.paid_at >= filters.start)
        if filters.end is not None:
            query = query.where(FUNDING.c.paid_at < filters.end)
        async with self.as_tenant(tenant_id) as conn:
            rows = (await conn.execute(query.limit(limit))).mappings().all()
        return FundingListOut(funding=[views.funding(row) for row in rows])

    async def order(self, tenant_id: str, client_order_id: str) -> OrderOnFile | None:
        """Return one of the tenant's orders by its client order id, or None."""
        by_id = select(ORDERS).where(ORDERS.c.client_order_id == client_order_id)
        async with self.as_tenant(tenant_id) as conn:
            row = (await conn.execute(by_id)).mappings().first()
            if row is None:
                return None
            last = await conn.execute(
                select(ORDER_EVENTS.c.message_id)
                .where(ORDER_EVENTS.c.client_order_id == client_order_id)
                .order_by(ORDER_EVENTS.c.stream_seq.desc())
                .limit(1)
            )
            last_message_id = last.scalar()
        return OrderOnFile(
            client_order_id=row["client_order_id"],
            intent_id=row["intent_id"],
            account_label=row["account_label"],
            exchange_id=row["exchange_id"],
            symbol=row["symbol"],
            status=row["status"],
            last_message_id=None if last_message_id is None else str(last_message_id),
        )

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
            ids = [order["client_order_id"] for order in orders]
            # By order, not by intent: a cancel asked through the API is another intent, and
            # what the executor reports of it still belongs to this order's history.
            history = (
                (
                    await conn.execute(
                        select(ORDER_EVENTS)
                        .where(ORDER_EVENTS.c.client_order_id.in_(ids))
                        .order_by(ORDER_EVENTS.c.stream_seq)
                    )
                )
                .mappings()
                .all()
            )
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


def _days(query: Select[Any], filters: PnlFilters) -> Select[Any]:
    if filters.account is not None:
        query = query.where(DAILY.c.account_label == filters.account)
    if filters.currency is not None:
        query = query.where(DAILY.c.currency == filters.currency.upper())
    if filters.start is not None:
        query = query.where(DAILY.c.day >= filters.start)
    if filters.end is not None:
        query = query.where(DAILY.c.day <= filters.end)
    return query


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

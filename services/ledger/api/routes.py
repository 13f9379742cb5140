"""The read API: positions, trades (paged, or CSV), one alert's order trail, daily PnL (the
alert feed, strategies and PnL per day: `services.ledger.api.alerts`).

Every route needs a tenant API key and answers for that tenant only (RLS, see `reads`).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request, status
from fastapi.responses import Response, StreamingResponse

from libs.common import api
from libs.common.auth import CurrentTenant
from libs.common.db import install_outage_answers
from libs.common.ids import ULID_PATTERN
from libs.common.messages.types import Iso8601, Text
from services.ledger import examples
from services.ledger.api.alerts import router as feed_router
from services.ledger.api.cancels import Canceller, CannotCancelError
from services.ledger.api.cursor import Cursor
from services.ledger.api.export import csv_chunks
from services.ledger.api.reads import PnlFilters, Reads, TradeFilters
from services.ledger.api.schemas import (
    CancelRequestedOut,
    FundingListOut,
    PnlOut,
    PositionsOut,
    TradesOut,
    TrailOut,
)
from services.ledger.errors import BadRequestError

# Every route: no valid key (401), a suspended account (403), starting up or an outage (503).
router = APIRouter(prefix="/api/v1", tags=["ledger"], responses=api.answers(401, 403, 503))
log = logging.getLogger(__name__)
CSV = {"content": {"text/csv": {"schema": {"type": "string"}, "example": examples.TRADES_CSV}}}


def get_reads(request: Request) -> Reads:
    """Return the app's `Reads` (set in the lifespan, or by a test)."""
    reads: Reads = request.app.state.reads
    return reads


def get_canceller(request: Request) -> Canceller:
    """Return the app's `Canceller` (set in the lifespan, or by a test)."""
    canceller: Canceller = request.app.state.canceller
    return canceller


Ledger = Annotated[Reads, Depends(get_reads)]
Cancels = Annotated[Canceller, Depends(get_canceller)]
# Binance's rule for client order ids (what the executor sends), less "/": a path segment.
CLIENT_ORDER_ID = r"^[.A-Z:a-z0-9_-]{1,36}$"
Account = Annotated[Text | None, Query(max_length=64, description="Account label.")]
Symbol = Annotated[Text | None, Query(max_length=64, description="Unified symbol, BTC/USDT.")]
Since = Annotated[
    datetime | None, Iso8601, Query(alias="from", description="From (inclusive), UTC.")
]
Until = Annotated[
    datetime | None, Iso8601, Query(alias="to", description="Up to (exclusive), UTC.")
]
PageCursor = Annotated[Text | None, Query(max_length=512, description="next_cursor of a page.")]
Limit = Annotated[int, Query(ge=1, le=1000)]


def _trade_filters(
    account: str | None, symbol: str | None, start: datetime | None, end: datetime | None
) -> TradeFilters:
    start, end = _utc(start), _utc(end)
    if start is not None and end is not None and start >= end:
        raise BadRequestError("'from' must be earlier than 'to'.")
    return TradeFilters(account=account, symbol=symbol, start=start, end=end)


def _utc(value: datetime | None) -> datetime | None:
    """Read a time without a zone as UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@router.get("/positions")
async def positions(
    tenant: CurrentTenant, ledger: Ledger, account: Account = None, symbol: Symbol = None
) -> PositionsOut:
    """Net positions (short: negative) with average entry, realized PnL, fees per currency,
    and the latest mark: mark price, unrealized PnL, liquidation price."""
    return await ledger.positions(tenant.tenant_id, account, symbol)


@router.get("/trades", response_model=TradesOut, responses={200: CSV})
async def trades(
    tenant: CurrentTenant,
    ledger: Ledger,
    *,
    account: Account = None,
    symbol: Symbol = None,
    start: Since = None,
    end: Until = None,
    cursor: PageCursor = None,
    limit: Limit = 100,
    format: Literal["json", "csv"] = "json",
) -> TradesOut | StreamingResponse:
    """Trades newest first, a page at a time; ``format=csv`` streams them all as CSV."""
    filters = _trade_filters(account, symbol, start, end)
    if format == "csv":
        return _csv(ledger, tenant.tenant_id, filters)
    after = Cursor.decode(cursor) if cursor else None
    return await ledger.trades(tenant.tenant_id, filters, after=after, limit=limit)


@router.get(
    "/trades.csv",
    response_class=StreamingResponse,
    responses={200: {**CSV, "description": "Every matching trade as CSV."}},
)
async def trades_csv(
    tenant: CurrentTenant,
    ledger: Ledger,
    *,
    account: Account = None,
    symbol: Symbol = None,
    start: Since = None,
    end: Until = None,
) -> StreamingResponse:
    """Every matching trade as CSV, newest first."""
    return _csv(ledger, tenant.tenant_id, _trade_filters(account, symbol, start, end))


def _csv(ledger: Reads, tenant_id: str, filters: TradeFilters) -> StreamingResponse:
    return StreamingResponse(
        csv_chunks(ledger.all_trades(tenant_id, filters)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="trades.csv"'},
    )


@router.get("/orders/{intent_id}", responses=api.answers(404))
async def order_trail(
    tenant: CurrentTenant,
    ledger: Ledger,
    intent_id: Annotated[str, Path(pattern=ULID_PATTERN, description="The alert's intent_id.")],
) -> TrailOut:
    """What became of one alert: accepted or rejected (why), its orders, their fills."""
    trail = await ledger.trail(tenant.tenant_id, intent_id)
    if trail is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No alert with id {intent_id}.")
    return trail


@router.delete(
    "/orders/{client_order_id}",
    status_code=status.HTTP_202_ACCEPTED,
    responses=api.answers(404, 409),
)
async def cancel_order(
    tenant: CurrentTenant,
    ledger: Ledger,
    cancels: Cancels,
    client_order_id: Annotated[
        str, Path(pattern=CLIENT_ORDER_ID, description="The order's client_order_id.")
    ],
) -> CancelRequestedOut:
    """Ask the executor to cancel an open order (submitted or partially filled; a take-profit
    or stop-loss too). 202 once the request is queued: the order's trail shows the outcome.
    """
    order = await ledger.order(tenant.tenant_id, client_order_id)
    if order is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No order with id {client_order_id}.")
    try:
        command = await cancels.cancel(tenant.tenant_id, order)
    except CannotCancelError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, exc.message) from exc
    return CancelRequestedOut(
        cancel_requested=True, intent_id=command.intent_id, client_order_id=client_order_id
    )


@router.get("/funding")
async def funding(
    tenant: CurrentTenant,
    ledger: Ledger,
    *,
    account: Account = None,
    symbol: Symbol = None,
    start: Since = None,
    end: Until = None,
    limit: Limit = 100,
) -> FundingListOut:
    """Funding payments of perpetual positions, newest first (negative: paid)."""
    filters = _trade_filters(account, symbol, start, end)
    return await ledger.funding(tenant.tenant_id, filters, limit=limit)


@router.get("/pnl")
async def pnl(
    tenant: CurrentTenant,
    ledger: Ledger,
    *,
    account: Account = None,
    currency: Annotated[Text | None, Query(max_length=16)] = None,
    start: Annotated[
        date | None, Iso8601, Query(alias="from", description="First day, UTC.")
    ] = None,
    end: Annotated[
        date | None, Iso8601, Query(alias="to", description="Last day (inclusive).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> PnlOut:
    """Realized PnL, fees and funding per UTC day, account and currency, newest day first;
    totals per account and currency over those days, with the unrealized PnL of the positions
    open now at their last mark."""
    if start is not None and end is not None and start > end:
        raise BadRequestError("'from' must not be after 'to'.")
    filters = PnlFilters(account=account, currency=currency, start=start, end=end)
    return await ledger.pnl(tenant.tenant_id, filters, limit=limit)


def install(app: FastAPI) -> None:
    """Add the routes; answer in the common error shape (a request that cannot be answered as
    asked with 422, an unreachable database with 503).
    """
    app.include_router(router)
    app.include_router(feed_router)
    api.install_error_answers(app)
    install_outage_answers(app)
    app.add_exception_handler(BadRequestError, _bad_request)


async def _bad_request(request: Request, exc: Exception) -> Response:
    message = exc.message if isinstance(exc, BadRequestError) else "Bad request."
    return api.error_response(status.HTTP_422_UNPROCESSABLE_CONTENT, message)

"""Positions and PnL: open positions, realized PnL per day and per strategy, the cumulative PnL
chart (SVG drawn here), the latest trades, and every trade as CSV (the ledger's, passed on).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from services.web.api.common import render
from services.web.chart import cumulative, pnl_chart
from services.web.errors import ApiError
from services.web.tenant_api import Api, Me, TenantApi

router = APIRouter()
TRADES_PAGE = 50
NOT_FOUND = 404


async def optional(api: TenantApi, service: Any, path: str, **params: str) -> Any:
    """A read that a service may not offer yet (404): None instead of an error page."""
    try:
        return await api.get(service, path, params=params)
    except ApiError as exc:
        if exc.status == NOT_FOUND:
            return None
        raise


def main_currency(days: Sequence[dict[str, Any]]) -> str:
    """The currency most days are counted in: the chart draws that one."""
    counts = Counter(str(d.get("currency") or "") for d in days)
    return counts.most_common(1)[0][0] if counts else ""


def chart_of(days: Sequence[dict[str, Any]]) -> str:
    """The cumulative realized PnL chart of the ledger's daily rows (one currency)."""
    currency = main_currency(days)
    per_day: dict[date, Decimal] = defaultdict(Decimal)
    for row in days:
        if str(row.get("currency") or "") == currency:
            per_day[date.fromisoformat(str(row["day"]))] += Decimal(str(row["realized_pnl"]))
    return pnl_chart(cumulative(list(per_day.items())), currency)


@router.get("/positions")
async def positions(request: Request, me: Me, api: Api) -> Response:
    """Open positions, PnL per day and strategy, the chart, the latest trades."""
    cursor = request.query_params.get("cursor") or None
    held = await api.get("ledger", "/api/v1/positions")
    pnl = await api.get("ledger", "/api/v1/pnl", params={"limit": "366"})
    trades = await api.get(
        "ledger", "/api/v1/trades", params={"limit": str(TRADES_PAGE), "cursor": cursor}
    )
    strategies = await optional(api, "ledger", "/api/v1/strategies")
    context = {
        "positions": [p for p in held["positions"] if p.get("side") != "flat"],
        "days": pnl["days"],
        "totals": pnl["totals"],
        "chart": chart_of(pnl["days"]),
        "strategies": (strategies or {}).get("strategies"),
        "trades": trades["trades"],
        "next_cursor": trades.get("next_cursor"),
    }
    return await render(request, "positions/index.html", context, me=me)


async def _passed_on(chunks: AsyncIterator[bytes], opened: AsyncExitStack) -> AsyncIterator[bytes]:
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        await opened.aclose()


@router.get("/positions/trades.csv")
async def trades_csv(me: Me, api: Api) -> StreamingResponse:
    """Every trade as CSV, streamed from the ledger as it writes it."""
    del me
    opened = AsyncExitStack()  # open before answering: a refusal is still a page in words
    upstream = await opened.enter_async_context(api.stream("ledger", "/api/v1/trades.csv"))
    return StreamingResponse(
        _passed_on(upstream.aiter_bytes(), opened),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="sparky-trades.csv"',
            "Cache-Control": "no-store",
        },
    )

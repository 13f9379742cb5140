"""The alert feed's routes: the alerts (a page, one, a live stream), strategies, daily PnL.

Tenant API key like every ledger route; every read is under RLS (`services.ledger.api.reads`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, status
from fastapi.responses import StreamingResponse

from libs.common import api
from libs.common.auth import CurrentTenant, current_tenant
from libs.common.ids import ULID_PATTERN
from libs.common.messages.enums import AlertStatus
from libs.common.messages.types import Iso8601, Text
from services.ledger import examples
from services.ledger.api.cursor import Cursor
from services.ledger.api.feed import AlertFilters, Feed
from services.ledger.api.feed_schemas import (
    AlertDetailOut,
    AlertsOut,
    DailyPnlListOut,
    StrategiesOut,
)
from services.ledger.api.reads import Reads
from services.ledger.api.signals import AlertSignals
from services.ledger.errors import BadRequestError

router = APIRouter(prefix="/api/v1", tags=["alerts"], responses=api.answers(401, 403, 503))
KEEPALIVE_S = 15.0
RECHECK_S = 5.0  # a revoked key's stream ends within this
STREAM_BATCH = 200
EVENT_STREAM = {
    "content": {
        "text/event-stream": {"schema": {"type": "string"}, "example": examples.ALERT_STREAM}
    },
    "description": "Server-sent events: ``id: <seq>``, ``event: alert``, ``data: <Alert>``; "
    "a ``: keepalive`` comment every 15 s.",
}


def get_feed(request: Request) -> Feed:
    """Return the feed's queries over the app's `Reads`."""
    reads: Reads = request.app.state.reads
    return Feed(reads)


def get_signals(request: Request) -> AlertSignals | None:
    """Return the app's `AlertSignals`, or None (streams then poll)."""
    signals: AlertSignals | None = getattr(request.app.state, "alert_signals", None)
    return signals


Alerts = Annotated[Feed, Depends(get_feed)]
Signals = Annotated[AlertSignals | None, Depends(get_signals)]
Name = Annotated[Text | None, Query(max_length=500, description="Exact match.")]
Since = Annotated[
    datetime | None, Iso8601, Query(description="Received at or after (UTC, inclusive).")
]
Until = Annotated[datetime | None, Iso8601, Query(description="Received before (UTC).")]


@router.get("/alerts", responses=api.answers(422))
async def alerts(
    tenant: CurrentTenant,
    feed: Alerts,
    *,
    status: Annotated[AlertStatus | None, Query()] = None,
    symbol: Annotated[
        Text | None, Query(max_length=64, description="As TradingView sent it.")
    ] = None,
    strategy: Name = None,
    since: Since = None,
    until: Until = None,
    cursor: Annotated[
        Text | None, Query(max_length=512, description="A page's next_cursor.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AlertsOut:
    """Every alert the tenant's webhooks received, newest first, with its outcome in words:
    refused at the webhook, received, rejected by the router (why), placed, filled…"""
    start, end = _utc(since), _utc(until)
    if start is not None and end is not None and start >= end:
        raise BadRequestError("'since' must be earlier than 'until'.")
    filters = AlertFilters(status, symbol, strategy, start, end)
    after = Cursor.decode(cursor) if cursor else None
    return await feed.alerts(tenant.tenant_id, filters, after=after, limit=limit)


@router.get("/alerts/stream", response_class=StreamingResponse, responses={200: EVENT_STREAM})
async def alert_stream(
    request: Request,
    tenant: CurrentTenant,
    feed: Alerts,
    signals: Signals,
    *,
    after: Annotated[int | None, Query(ge=0, le=2**62, description="Resume after this id.")] = None,
    last_event_id: Annotated[
        str | None, Header(alias="Last-Event-ID", max_length=19, pattern=r"^[0-9]{1,19}$")
    ] = None,
) -> StreamingResponse:
    """Each change of one of the tenant's alerts as it is recorded, as server-sent events;
    resumes after ``Last-Event-ID`` (or ``after``), else starts with what changes next."""
    start = int(last_event_id) if last_event_id is not None else after
    if start is None:
        start = await feed.last_seq(tenant.tenant_id)
    events = _events(request, feed, signals, tenant.tenant_id, start)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events, media_type="text/event-stream", headers=headers)


async def _events(
    request: Request, feed: Feed, signals: AlertSignals | None, tenant_id: str, last: int
) -> AsyncIterator[str]:
    """Send each change after ``last``; read again when woken (or, nothing notifying, every
    poll); keep alive when quiet; end once the key no longer authenticates."""
    yield ": stream open\n\n"  # the client sees the answer at once
    quiet_since, look = time.monotonic(), True
    with _watching(signals, tenant_id) as changed:
        while _still_allowed(request) and not await request.is_disconnected():
            if look or changed.is_set() or not _listening(signals):
                changed.clear()  # before reading: a change committed meanwhile wakes us again
                batch = await feed.changes(tenant_id, last, STREAM_BATCH)
                for alert in batch:
                    last = alert.seq
                    yield f"id: {alert.seq}\nevent: alert\ndata: {alert.model_dump_json()}\n\n"
                if batch:
                    quiet_since = time.monotonic()
                look = len(batch) == STREAM_BATCH
                if look:
                    continue
            if time.monotonic() - quiet_since >= KEEPALIVE_S:
                yield ": keepalive\n\n"  # proxies and browsers keep an idle stream open
                quiet_since = time.monotonic()
            await _wait(changed, signals, KEEPALIVE_S - (time.monotonic() - quiet_since))


def _still_allowed(request: Request) -> bool:
    """Whether the stream's API key still authenticates (revoked, suspended: the stream ends)."""
    try:
        current_tenant(request)
    except HTTPException:
        return False
    return True


def _listening(signals: AlertSignals | None) -> bool:
    return signals is not None and signals.listening


@contextlib.contextmanager
def _watching(signals: AlertSignals | None, tenant_id: str) -> Iterator[asyncio.Event]:
    if signals is None:
        yield asyncio.Event()
        return
    with signals.watch(tenant_id) as changed:
        yield changed


async def _wait(changed: asyncio.Event, signals: AlertSignals | None, keepalive_s: float) -> None:
    """Wait for a change, the next keepalive or key check, or (nothing notifying) the next
    poll."""
    poll_s = signals.fallback_s if signals is not None else 1.0
    timeout = min(RECHECK_S if _listening(signals) else poll_s, keepalive_s)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(changed.wait(), max(timeout, 0.0))


@router.get("/alerts/{intent_id}", responses=api.answers(404))
async def alert_detail(
    tenant: CurrentTenant,
    feed: Alerts,
    intent_id: Annotated[str, Path(pattern=ULID_PATTERN, description="The alert's intent_id.")],
) -> AlertDetailOut:
    """One alert and its trail: its orders, their fills and fees, every event with when it
    happened after the alert was received."""
    detail = await feed.detail(tenant.tenant_id, intent_id)
    if detail is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No alert with id {intent_id}.")
    return detail


@router.get("/strategies")
async def strategies(tenant: CurrentTenant, feed: Alerts) -> StrategiesOut:
    """One entry per strategy seen in alerts (the alerts' ``strategy`` field): alerts, trades,
    wins, losses, realized PnL, last signal."""
    return await feed.strategies(tenant.tenant_id)


@router.get("/pnl/daily", responses=api.answers(422))
async def daily_pnl(
    tenant: CurrentTenant,
    feed: Alerts,
    *,
    strategy: Name = None,
    since: Annotated[date | None, Iso8601, Query(description="First UTC day.")] = None,
    until: Annotated[date | None, Iso8601, Query(description="Last UTC day (inclusive).")] = None,
) -> DailyPnlListOut:
    """Realized PnL per UTC day and quote currency, oldest first, with its running total:
    all of it, or one strategy's."""
    if since is not None and until is not None and since > until:
        raise BadRequestError("'since' must not be after 'until'.")
    return await feed.daily(tenant.tenant_id, strategy, since, until)


def _utc(value: datetime | None) -> datetime | None:
    """Read a time without a zone as UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)

"""The alerts feed: every alert of the tenant's webhooks, newest first, its outcome in words;
filters, cursor paging, live rows pushed over server-sent events; one alert's whole trail.

`GET /alerts/stream` follows the ledger's stream (`/api/v1/alerts/stream`) for the signed-in
tenant and sends each change as a rendered ``<tr>``: a row the page does not show yet is
prepended (the tbody's ``hx-swap="afterbegin"``), a row it shows is replaced by its id (an
out-of-band swap). Which rows the page shows, the stream learns from the ledger's first page
for the same filters, read when it starts.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from libs.common.messages.enums import AlertStatus
from services.web.api.common import render, templates_of
from services.web.errors import ApiError, ServiceUnavailableError
from services.web.sse import EventReader, frame
from services.web.tenant_api import Api, Me, TenantApi

router = APIRouter()
STATUSES = tuple(AlertStatus)  # the ledger feed's statuses, in its order
FILTERS = ("status", "symbol", "strategy", "since", "until")
PAGE_SIZE = 50
MAX_EVENT_ID = 19  # digits: the ledger's seq is a bigint
ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$")


def filters_of(request: Request) -> dict[str, str]:
    """The feed's filters from the query, as the form sends them."""
    values = {name: request.query_params.get(name, "").strip()[:64] for name in FILTERS}
    if values["status"] not in STATUSES:
        values["status"] = ""
    return values


def _ledger_params(filters: dict[str, str]) -> dict[str, str]:
    """A datetime-local field has no zone: the page's times are UTC."""
    params = dict(filters)
    for name in ("since", "until"):
        if _LOCAL_TIME.fullmatch(params[name]):
            params[name] += "Z"
    return params


async def _page(api: TenantApi, filters: dict[str, str], cursor: str | None) -> dict[str, Any]:
    params = _ledger_params(filters) | {"cursor": cursor, "limit": str(PAGE_SIZE)}
    page: dict[str, Any] = await api.get("ledger", "/api/v1/alerts", params=params)
    return page


@router.get("/alerts")
async def feed(request: Request, me: Me, api: Api) -> Response:
    """The feed page: filters, a page of alerts, the "older" link; live when on page one."""
    filters = filters_of(request)
    cursor = request.query_params.get("cursor") or None
    error = None
    try:
        page = await _page(api, filters, cursor)
    except ApiError as exc:  # a filter the ledger refused: say why, show no rows
        page, error = {"alerts": [], "next_cursor": None}, exc.message
    older = {k: v for k, v in filters.items() if v} | {"cursor": page.get("next_cursor") or ""}
    context = {
        "alerts": page["alerts"],
        "filters": filters,
        "statuses": STATUSES,
        "older": older if page.get("next_cursor") else None,
        "live": cursor is None,
        "stream_query": {k: v for k, v in filters.items() if v},
        "error": error,
    }
    return await render(
        request, "alerts/feed.html", context, me=me, status_code=400 if error else 200
    )


def _row(request: Request, alert: dict[str, Any], *, replace: bool) -> str:
    template = templates_of(request).get_template("alerts/row.html")
    html: str = template.render(alert=alert, oob=replace)
    return " ".join(html.split("\n"))


def _matches(alert: dict[str, Any], filters: dict[str, str]) -> bool:
    return all(
        not filters[name] or str(alert.get(name) or "") == filters[name]
        for name in ("status", "symbol", "strategy")
    )


async def _rows(
    request: Request, api: TenantApi, filters: dict[str, str], after: str | None
) -> AsyncIterator[str]:
    """Rendered rows for every change of the tenant's alerts the ledger streams."""
    headers = {"Last-Event-ID": after} if after else None
    yield ": connected\n\n"
    try:
        shown = {a["intent_id"] for a in (await _page(api, filters, None))["alerts"]}
        async with api.stream("ledger", "/api/v1/alerts/stream", headers=headers) as upstream:
            reader = EventReader()
            async for line in upstream.aiter_lines():
                if line.startswith(":"):
                    yield ": keepalive\n\n"  # lets the server notice a browser that left
                    continue
                event = reader.feed(line)
                if event is None or event.event != "alert":
                    continue
                alert = json.loads(event.data)
                known = alert["intent_id"] in shown
                if not known and not _matches(alert, filters):
                    continue
                shown.add(alert["intent_id"])
                yield frame("alert", _row(request, alert, replace=known), event.id)
    except (ApiError, ServiceUnavailableError):
        yield frame("unavailable", "Live updates paused: the feed is temporarily unavailable.")


@router.get("/alerts/stream")
async def stream(request: Request, me: Me, api: Api) -> StreamingResponse:
    """Rendered rows of the tenant's alerts as they change (text/event-stream)."""
    del me
    sent = request.headers.get("Last-Event-ID") or request.query_params.get("after") or ""
    after = sent if sent.isdigit() and len(sent) <= MAX_EVENT_ID else None
    return StreamingResponse(
        _rows(request, api, filters_of(request), after),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/alerts/{intent_id}")
async def trail(request: Request, intent_id: str, me: Me, api: Api) -> Response:
    """One alert from the webhook to its fills: orders, fills, fees, timings."""
    if not ULID.fullmatch(intent_id):
        context = {"status": 404, "message": f"No alert with id {intent_id[:40]}."}
        return await render(request, "error.html", context, me=me, status_code=404)
    found = await api.get("ledger", f"/api/v1/alerts/{intent_id}")
    return await render(request, "alerts/trail.html", {"trail": found}, me=me)

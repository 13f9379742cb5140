"""Notifications (account hub tab): the tenant's channels at the notifier, as the tenant.

Add a Discord, email or webhook channel (it receives a 6-digit code, typed back here to turn it
on; a webhook's signing secret is shown once), link a Telegram chat through the bot's deep
link, choose each channel's events, quiet mode and daily summary, send a test, delete. A dead
channel says why; the banner of every page (`services.web.dead_channels`) points here.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from services.web.api.common import back, form_of, refused_status, render
from services.web.api.exchanges import refusal
from services.web.dead_channels import registry
from services.web.errors import ApiError
from services.web.session import SignedIn, verify_csrf
from services.web.tenant_api import Api, Me, TenantApi

router = APIRouter()
Checked = Annotated[None, Depends(verify_csrf)]
PAGE = "/account/notifications"
CHANNELS = "/api/v1/notifications/channels"
_ID = re.compile(r"^[0-9A-Za-z]{1,64}$")
# The events a channel may want, in the notifier's words (its EVENT_KINDS).
EVENTS: tuple[tuple[str, str], ...] = (
    ("order.filled", "Orders filled"),
    ("order.submitted", "Orders sent to the exchange"),
    ("intent.rejected", "Alerts rejected (limits, kill switch, settings)"),
    ("order.rejected", "Orders rejected by the exchange"),
    ("order.failed", "Orders failed"),
    ("order.uncertain", "Orders with an unknown outcome"),
    ("protection.failed", "Take-profit or stop-loss not placed"),
    ("alert.refused", "Alerts refused (stale, malformed, not allowed)"),
    ("position.drift", "Position differs from TradingView's"),
    ("position.marked", "Positions marked to market"),
    ("funding.paid", "Funding paid or received"),
    ("settings.kill_switch", "Kill switch turned on or off"),
    ("billing.payment_failed", "Payment failed"),
    ("billing.grace_ending", "Grace period ending"),
    ("daily.summary", "Daily summary (email)"),
)
SUMMARY = "daily.summary"
KINDS = {"telegram": "Telegram", "discord": "Discord", "email": "Email", "webhook": "Webhook"}
STATUSES = {
    "pending_verification": "waiting for its code",
    "active": "active",
    "dead": "stopped",
}


async def _page(
    request: Request,
    me: SignedIn,
    api: TenantApi,
    *,
    errors: dict[str, str] | None = None,
    shown: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    channels = (await api.get("notifier", CHANNELS))["channels"]
    context = {
        "channels": channels,
        "events": EVENTS,
        "kinds": KINDS,
        "statuses": STATUSES,
        "errors": errors or {},
        "shown": shown,
        "tab": "notifications",
    }
    return await render(request, "account/notifications.html", context, me=me, status_code=status)


def _changed(request: Request, me: SignedIn) -> None:
    registry(request).forget(me.tenant_id)  # the banner asks again on the next page


async def _refused(
    request: Request, me: SignedIn, api: TenantApi, key: str, exc: ApiError
) -> Response:
    return await _page(request, me, api, errors={key: refusal(exc)}, status=refused_status(exc))


def _channel_path(form: dict[str, str], suffix: str = "") -> str:
    channel_id = form.get("channel_id", "")
    if not _ID.fullmatch(channel_id):
        raise ApiError(404, "No such channel.")
    return f"{CHANNELS}/{quote(channel_id, safe='')}{suffix}"


@router.get(PAGE)
async def notifications(request: Request, me: Me, api: Api) -> Response:
    """The channels, their state and a form for each change."""
    return await _page(request, me, api)


@router.post(PAGE)
async def add(request: Request, me: Me, api: Api, _: Checked) -> Response:
    """Add a Discord, email or webhook channel; it is sent a code to type back here."""
    form = await form_of(request)
    body: dict[str, Any] = {
        "kind": form.get("kind", ""),
        "target": form.get("target", ""),
        "quiet": bool(form.get("quiet")),
    }
    if body["kind"] == "email":
        body["daily_summary"] = bool(form.get("daily_summary"))
    try:
        created = await api.post("notifier", CHANNELS, json=body)
    except ApiError as exc:
        return await _refused(request, me, api, "add", exc)
    _changed(request, me)
    shown = {"channel_id": created["id"], "secret": created.get("signing_secret")}
    return await _page(request, me, api, shown=shown)


@router.post(PAGE + "/verify")
async def verify(request: Request, me: Me, api: Api, _: Checked) -> Response:
    """Turn a channel on with the code it received."""
    form = await form_of(request)
    try:
        await api.post("notifier", _channel_path(form, "/verify"), json={"code": form.get("code")})
    except ApiError as exc:
        return await _refused(request, me, api, form.get("channel_id", ""), exc)
    _changed(request, me)
    return back(PAGE, "Channel verified: notifications go to it from now on.")


@router.post(PAGE + "/change")
async def change(request: Request, me: Me, api: Api, _: Checked) -> Response:
    """Which events a channel gets, quiet mode, the daily summary."""
    form = await form_of(request)
    events = [kind for kind, _ in EVENTS if kind != SUMMARY and form.get(f"event:{kind}")]
    body: dict[str, Any] = {"events": events, "quiet": bool(form.get("quiet"))}
    if form.get("kind") == "email":  # the summary is a flag and an event kind of email's
        body["daily_summary"] = bool(form.get("daily_summary"))
        events += [SUMMARY] if body["daily_summary"] else []
    try:
        await api.patch("notifier", _channel_path(form), json=body)
    except ApiError as exc:
        return await _refused(request, me, api, form.get("channel_id", ""), exc)
    return back(PAGE, "Channel saved.")


@router.post(PAGE + "/test")
async def test(request: Request, me: Me, api: Api, _: Checked) -> Response:
    """Send a test message to an active channel."""
    form = await form_of(request)
    try:
        await api.post("notifier", _channel_path(form, "/test"))
    except ApiError as exc:
        return await _refused(request, me, api, form.get("channel_id", ""), exc)
    return back(PAGE, "Test message on its way.")


@router.post(PAGE + "/delete")
async def delete(request: Request, me: Me, api: Api, _: Checked) -> Response:
    """Delete a channel: nothing more is sent to it."""
    form = await form_of(request)
    try:
        await api.delete("notifier", _channel_path(form))
    except ApiError as exc:
        return await _refused(request, me, api, form.get("channel_id", ""), exc)
    _changed(request, me)
    return back(PAGE, "Channel deleted.")


@router.post(PAGE + "/telegram")
async def link_telegram(request: Request, me: Me, api: Api, _: Checked) -> Response:
    """A one-time deep link to the bot: opening it in Telegram links that chat."""
    try:
        link = await api.post("notifier", CHANNELS + "/telegram")
    except ApiError as exc:
        if exc.status in (404, 405):  # a notifier without the bot's routes
            exc = ApiError(409, "Telegram is not available on this deployment.")
        return await _refused(request, me, api, "telegram", exc)
    shown = {"telegram": link["link"], "expires_at": link.get("expires_at")}
    return await _page(request, me, api, shown=shown)

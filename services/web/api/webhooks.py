"""Webhooks (account hub tab): create, rotate with grace, revoke, IP allowlist, passphrase.

Billing shows a webhook's token once; the web app keeps the tokens it created or rotated
(sealed, `services.web.tenant_keys`) so the URL can be shown again and test alerts sent.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from services.web.api.common import back, form_of, refused_status, render
from services.web.api.exchanges import refusal
from services.web.errors import ApiError
from services.web.runtime import runtime_of
from services.web.session import SignedIn, verify_csrf
from services.web.tenant_api import Api, Me, TenantApi
from services.web.tenant_keys import forget_webhook_token, keep_webhook_token, kept_webhook_token

router = APIRouter()
Checked = Annotated[None, Depends(verify_csrf)]
PAGE = "/account/webhooks"
HOOKS = "/api/v1/webhooks"
GRACES = ((0, "at once"), (3600, "in 1 hour"), (86_400, "in 24 hours"), (604_800, "in 7 days"))
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def url_of(request: Request, token: str, base: Literal["public", "ingress"] = "public") -> str:
    """The webhook URL of ``token``: TradingView's (public) or ingress's internal one."""
    settings = runtime_of(request).settings
    root = settings.webhook_base_url if base == "public" else settings.ingress_url
    return f"{root}/webhooks/tv/{token}"


async def webhook_url(
    request: Request, me: SignedIn, webhook_id: str, base: Literal["public", "ingress"] = "public"
) -> str | None:
    """The URL of one of the user's webhooks, if the app kept its token."""
    if not _ID.fullmatch(webhook_id):
        return None
    token = await kept_webhook_token(request, me, webhook_id)
    return None if token is None else url_of(request, token, base)


async def webhooks_with_urls(
    request: Request, me: SignedIn, api: TenantApi
) -> list[dict[str, Any]]:
    """The tenant's live webhooks, each with ``url`` (None when its token was not kept here)."""
    hooks = await api.get("billing", HOOKS)
    live = [h for h in hooks if h["state"] != "revoked"]
    return [h | {"url": await webhook_url(request, me, h["webhook_id"])} for h in live]


def allowlist(text: str) -> list[str]:
    """Addresses typed one per line or separated by commas or spaces."""
    return [part for part in re.split(r"[\s,]+", text) if part]


async def _page(
    request: Request,
    me: SignedIn,
    api: TenantApi,
    *,
    errors: dict[str, str] | None = None,
    shown: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    context = {
        "webhooks": await webhooks_with_urls(request, me, api),
        "graces": GRACES,
        "errors": errors or {},
        "shown": shown,
        "tab": "webhooks",
    }
    return await render(request, "account/webhooks.html", context, me=me, status_code=status)


@router.get(PAGE)
async def webhooks(request: Request, me: Me, api: Api) -> Response:
    """The webhooks, their URLs, and a form for each change."""
    return await _page(request, me, api)


async def _refused(
    request: Request, me: SignedIn, api: TenantApi, key: str, exc: ApiError
) -> Response:
    return await _page(request, me, api, errors={key: refusal(exc)}, status=refused_status(exc))


async def _shown(
    request: Request, me: SignedIn, api: TenantApi, created: Any, what: str
) -> Response:
    hook_id, token = created["webhook"]["webhook_id"], created["token"]
    await keep_webhook_token(request, me, hook_id, token)
    shown = {"what": what, "url": url_of(request, token), "webhook_id": hook_id}
    return await _page(request, me, api, shown=shown)


@router.post(PAGE)
async def create(request: Request, me: Me, api: Api, _: Checked) -> Response:
    """Add a webhook; its URL is shown (and kept for test alerts)."""
    form = await form_of(request)
    body: dict[str, Any] = {
        "label": form.get("label") or "default",
        "allowed_ips": allowlist(form.get("allowed_ips", "")),
    }
    if form.get("passphrase"):
        body["passphrase"] = form["passphrase"]
    try:
        created = await api.post("billing", HOOKS, json=body)
    except ApiError as exc:
        return await _refused(request, me, api, "create", exc)
    return await _shown(request, me, api, created, "New webhook")


def _hook_path(form: dict[str, str], suffix: str = "") -> str:
    webhook_id = form.get("webhook_id", "")
    if not _ID.fullmatch(webhook_id):
        raise ApiError(404, "No such webhook.")
    return f"{HOOKS}/{quote(webhook_id, safe='')}{suffix}"


@router.post(PAGE + "/rotate")
async def rotate(request: Request, me: Me, api: Api, _: Checked) -> Response:
    """A new token; the old one keeps working for the chosen grace period."""
    form = await form_of(request)
    grace = form.get("grace_seconds", "0")
    body = {"grace_seconds": int(grace) if grace.isdigit() else 0}
    try:
        created = await api.post("billing", _hook_path(form, "/rotate"), json=body)
    except ApiError as exc:
        return await _refused(request, me, api, form.get("webhook_id", ""), exc)
    return await _shown(request, me, api, created, "Rotated webhook")


@router.post(PAGE + "/change")
async def change(request: Request, me: Me, api: Api, _: Checked) -> Response:
    """Change the IP allowlist and the passphrase (set, keep or remove)."""
    form = await form_of(request)
    body: dict[str, Any] = {"allowed_ips": allowlist(form.get("allowed_ips", ""))}
    if form.get("remove_passphrase"):
        body["passphrase"] = None
    elif form.get("passphrase"):
        body["passphrase"] = form["passphrase"]
    try:
        await api.patch("billing", _hook_path(form), json=body)
    except ApiError as exc:
        return await _refused(request, me, api, form.get("webhook_id", ""), exc)
    return back(PAGE, "Webhook changed.")


@router.post(PAGE + "/revoke")
async def revoke(request: Request, me: Me, api: Api, _: Checked) -> Response:
    """Revoke a webhook: its URL answers 401 from now on."""
    form = await form_of(request)
    try:
        await api.delete("billing", _hook_path(form))
    except ApiError as exc:
        return await _refused(request, me, api, form.get("webhook_id", ""), exc)
    await forget_webhook_token(request, me, form["webhook_id"])
    return back(PAGE, "Webhook revoked: its URL no longer works.")

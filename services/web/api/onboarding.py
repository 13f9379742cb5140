"""Onboarding in one screen: pick a venue → add API keys or open a paper account → the
webhook URL and the TradingView message for your symbol and sizing → send a test alert →
watch it in the feed. ``GET /`` sends a trader here until they have an exchange account.
"""

from __future__ import annotations

from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from services.web.api import exchanges
from services.web.api.common import back, form_of, refused_status, render
from services.web.api.webhooks import webhook_url, webhooks_with_urls
from services.web.errors import ApiError
from services.web.runtime import runtime_of
from services.web.session import SignedIn, verify_csrf
from services.web.templates_tv import (
    TemplateError,
    TemplateOptions,
    alert_templates,
    sample_alert,
)
from services.web.tenant_api import Api, Me, TenantApi

router = APIRouter()
Checked = Annotated[None, Depends(verify_csrf)]
PAGE = "/onboarding"
SIZINGS = (
    ("base", "A fixed amount of the coin"),
    ("quote", "Worth an amount of the quote currency (USDT)"),
    ("percent", "A percentage of equity"),
    ("strategy", "What the TradingView strategy ordered"),
)


@router.get("/")
async def home(me: Me, api: Api) -> RedirectResponse:
    """Onboarding until the tenant has an exchange account, then the alerts feed."""
    del me
    has_account = bool(await exchanges.accounts_of(api))
    return RedirectResponse("/alerts" if has_account else PAGE, status_code=303)


def options_of(values: Any) -> tuple[TemplateOptions, str | None]:
    """The template options of a form or query (defaults when absent), and what is wrong."""
    if not values.get("symbol"):
        return TemplateOptions(), None
    try:
        return TemplateOptions.parse(
            values.get("symbol", ""),
            values.get("sizing", "base"),
            values.get("amount", ""),
            values.get("strategy", ""),
            values.get("account", ""),
        ), None
    except TemplateError as exc:
        return TemplateOptions(), str(exc)


async def _page(
    request: Request,
    me: SignedIn,
    api: TenantApi,
    *,
    errors: dict[str, str] | None = None,
    sent: dict[str, Any] | None = None,
    status: int = 200,
    values: Any = None,
) -> Response:
    accounts = await exchanges.accounts_of(api)
    hooks = await webhooks_with_urls(request, me, api)
    hook = next((h for h in hooks if h["url"]), None)
    options, options_error = options_of(values or request.query_params)
    as_json, as_text = alert_templates(options)
    venue = request.query_params.get("venue", "")
    if errors and "paper" in errors:  # show the refused form again, its sentence beside it
        venue = "paper"
    elif errors and "keys" in errors:
        venue = str((values or {}).get("venue", "")) or "binance"
    context = {
        "accounts": accounts,
        "venue": venue if venue in {"paper", *dict(exchanges.VENUES)} else "",
        "venues": exchanges.VENUES,
        "needs_passphrase": exchanges.PASSPHRASE_VENUES,
        "hook": hook,
        "has_webhooks": bool(hooks),
        "options": options,
        "sizings": SIZINGS,
        "template_json": as_json,
        "template_text": as_text,
        "errors": (errors or {}) | ({"template": options_error} if options_error else {}),
        "sent": sent,
    }
    return await render(request, "onboarding/index.html", context, me=me, status_code=status)


@router.get(PAGE)
async def onboarding(request: Request, me: Me, api: Api) -> Response:
    """The onboarding steps, with what is done already."""
    return await _page(request, me, api)


@router.post(PAGE + "/paper")
async def paper_account(request: Request, me: Me, api: Api, _: Checked) -> Response:
    """Open a paper account."""
    form = await form_of(request)
    try:
        outcome = await exchanges.open_paper(api, form.get("label", ""))
    except (ApiError, exchanges.RefusedHere) as exc:
        status = refused_status(exc) if isinstance(exc, ApiError) else 400
        return await _page(
            request, me, api, errors={"paper": exchanges.refusal(exc)}, status=status
        )
    return back(PAGE, outcome.sentence)


@router.post(PAGE + "/keys")
async def exchange_keys(request: Request, me: Me, api: Api, _: Checked) -> Response:
    """Add an exchange account with its API keys, validated against the exchange."""
    form = await form_of(request)
    try:
        outcome = await exchanges.add_keys(api, form, me)
    except (ApiError, exchanges.RefusedHere) as exc:
        status = refused_status(exc) if isinstance(exc, ApiError) else 400
        errors = {"keys": exchanges.refusal(exc)}
        return await _page(request, me, api, errors=errors, status=status, values=form)
    return back(PAGE, outcome.sentence)


async def send(request: Request, url: str, alert: dict[str, Any]) -> dict[str, Any]:
    """POST the alert to ingress as TradingView would; its answer in words."""
    client: httpx.AsyncClient = runtime_of(request).http
    try:
        response = await client.post(url, json=alert)
    except httpx.HTTPError:
        return {"ok": False, "message": "Ingress could not be reached: try again in a moment."}
    body: dict[str, Any] = {}
    if response.headers.get("content-type", "").startswith("application/json"):
        found = response.json()
        body = found if isinstance(found, dict) else {}
    if response.status_code == 202:
        return {"ok": True, "intent_id": body.get("intent_id"), "message": "Alert received."}
    if response.status_code == 200 and body.get("duplicate"):
        return {"ok": True, "message": "Ingress saw this alert already (a duplicate)."}
    message = body.get("error") or f"Ingress answered {response.status_code}."
    return {"ok": False, "message": str(message)}


@router.post(PAGE + "/test-alert")
async def send_test_alert(request: Request, me: Me, api: Api, _: Checked) -> Response:
    """Send the JSON template, filled in, to the tenant's webhook through ingress."""
    form = await form_of(request)
    options, error = options_of(form)
    token = await webhook_url(request, me, form.get("webhook_id", ""), base="ingress")
    if error or token is None:
        words = error or "This webhook's URL is not known here: rotate it on the Webhooks page."
        return await _page(request, me, api, errors={"test": words}, status=400, values=form)
    alert = sample_alert(options, runtime_of(request).clock())
    outcome = await send(request, token, alert)
    status = 200 if outcome["ok"] else 400
    return await _page(request, me, api, sent=outcome, status=status, values=form)

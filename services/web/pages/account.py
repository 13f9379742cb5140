"""The account hub: overview, exchange accounts, API keys, subscription (webhooks: their own
module). Every change goes to the service that owns it, as the signed-in tenant.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from services.web.pages import exchanges
from services.web.pages.common import back, form_of, refused_status, render
from services.web.session import SignedIn, verify_csrf
from services.web.tenant_api import Api, ApiError, Me, TenantApi
from services.web.tenant_keys import tenant_api_key

router = APIRouter()
Checked = Annotated[None, Depends(verify_csrf)]
KEYS = "/api/v1/api-keys"
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ROTATE_GRACES = ((0, "at once"), (3600, "in 1 hour"), (86_400, "in 24 hours"))


@router.get("/account")
async def overview(request: Request, me: Me, api: Api) -> Response:
    """Plan, standing, and how many accounts, webhooks and keys the tenant has."""
    context = {
        "tenant": await api.get("billing", "/api/v1/account"),
        "accounts": await exchanges.accounts_of(api),
        "webhooks": [
            h for h in await api.get("billing", "/api/v1/webhooks") if h["state"] != "revoked"
        ],
        "tab": "overview",
    }
    return await render(request, "account/overview.html", context, me=me)


# Exchange accounts.

EXCHANGES = "/account/exchanges"


async def _exchanges(
    request: Request,
    me: SignedIn,
    api: TenantApi,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    context = {
        "accounts": await exchanges.accounts_of(api),
        "venues": exchanges.VENUES,
        "venue": "binance",
        "errors": errors or {},
        "tab": "exchanges",
    }
    return await render(request, "account/exchanges.html", context, me=me, status_code=status)


@router.get(EXCHANGES)
async def exchange_accounts(request: Request, me: Me, api: Api) -> Response:
    return await _exchanges(request, me, api)


async def _account_action(request: Request, me: SignedIn, api: TenantApi, action: str) -> Response:
    form = await form_of(request)
    label = form.get("label", "")
    try:
        if action == "keys":
            notice = (await exchanges.add_keys(api, form, me)).sentence
        elif action == "paper":
            notice = (await exchanges.open_paper(api, label)).sentence
        elif action == "validate":
            notice = (await exchanges.validate(api, label)).sentence
        else:
            await exchanges.remove(api, label)
            notice = f"Account {label} removed; its keys were deleted."
    except (ApiError, exchanges.RefusedHere) as exc:
        status = refused_status(exc) if isinstance(exc, ApiError) else 400
        key = action if action in {"keys", "paper"} else label
        return await _exchanges(request, me, api, {key: exchanges.refusal(exc)}, status)
    return back(EXCHANGES, notice)


@router.post(EXCHANGES + "/keys")
async def add_keys(request: Request, me: Me, api: Api, _: Checked) -> Response:
    """Add an account with API keys (live keys need two-factor sign-in)."""
    return await _account_action(request, me, api, "keys")


@router.post(EXCHANGES + "/paper")
async def add_paper(request: Request, me: Me, api: Api, _: Checked) -> Response:
    return await _account_action(request, me, api, "paper")


@router.post(EXCHANGES + "/validate")
async def validate(request: Request, me: Me, api: Api, _: Checked) -> Response:
    """Check an account's stored keys with the exchange again."""
    return await _account_action(request, me, api, "validate")


@router.post(EXCHANGES + "/delete")
async def delete(request: Request, me: Me, api: Api, _: Checked) -> Response:
    return await _account_action(request, me, api, "delete")


# API keys.

API_KEYS = "/account/api-keys"


async def _keys(
    request: Request,
    me: SignedIn,
    api: TenantApi,
    *,
    errors: dict[str, str] | None = None,
    shown: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    own = await tenant_api_key(request, me)
    keys = [k | {"ours": own.startswith(k["prefix"])} for k in await api.get("billing", KEYS)]
    context = {
        "keys": keys,
        "graces": ROTATE_GRACES,
        "errors": errors or {},
        "shown": shown,
        "tab": "api-keys",
    }
    return await render(request, "account/api_keys.html", context, me=me, status_code=status)


@router.get(API_KEYS)
async def api_keys(request: Request, me: Me, api: Api) -> Response:
    return await _keys(request, me, api)


@router.post(API_KEYS)
async def create_key(request: Request, me: Me, api: Api, _: Checked) -> Response:
    """A new API key for your scripts, shown this once."""
    form = await form_of(request)
    try:
        created = await api.post("billing", KEYS, json={"label": form.get("label") or "default"})
    except ApiError as exc:
        return await _keys(
            request, me, api, errors={"create": exc.message}, status=refused_status(exc)
        )
    shown = {"key": created["key"], "label": created["api_key"]["label"]}
    return await _keys(request, me, api, shown=shown)


async def _key_path(
    request: Request, me: SignedIn, api: TenantApi, form: dict[str, str], suffix: str = ""
) -> str:
    key_id = form.get("key_id", "")
    if not _ID.fullmatch(key_id):
        raise ApiError(404, "No such API key.")
    own = await tenant_api_key(request, me)
    listed = {k["key_id"]: k for k in await api.get("billing", KEYS)}
    if key_id in listed and own.startswith(listed[key_id]["prefix"]):
        raise ApiError(
            409,
            "This key is the one this web app signs in to Sparky with; it cannot be changed here.",
        )
    return f"{KEYS}/{quote(key_id, safe='')}{suffix}"


@router.post(API_KEYS + "/rotate")
async def rotate_key(request: Request, me: Me, api: Api, _: Checked) -> Response:
    """A new secret for the key; the old one works for the chosen grace period."""
    form = await form_of(request)
    grace = form.get("grace_seconds", "0")
    try:
        path = await _key_path(request, me, api, form, "/rotate")
        created = await api.post(
            "billing", path, json={"grace_seconds": int(grace) if grace.isdigit() else 0}
        )
    except ApiError as exc:
        return await _keys(
            request,
            me,
            api,
            errors={form.get("key_id", ""): exc.message},
            status=refused_status(exc),
        )
    return await _keys(
        request, me, api, shown={"key": created["key"], "label": created["api_key"]["label"]}
    )


@router.post(API_KEYS + "/revoke")
async def revoke_key(request: Request, me: Me, api: Api, _: Checked) -> Response:
    form = await form_of(request)
    try:
        await api.delete("billing", await _key_path(request, me, api, form))
    except ApiError as exc:
        return await _keys(
            request,
            me,
            api,
            errors={form.get("key_id", ""): exc.message},
            status=refused_status(exc),
        )
    return back(API_KEYS, "API key revoked.")


# Subscription.

SUBSCRIPTION = "/account/subscription"


def standing(tenant: dict[str, Any]) -> str:
    """The payment standing in words."""
    state, ends = tenant.get("payment_state"), tenant.get("grace_ends_at")
    if tenant.get("status") == "suspended":
        return "Your account is suspended: alerts are refused. Contact us."
    if state == "grace":
        return (
            f"Your last payment failed. The {tenant['plan']} plan stays in force until {ends}: "
            "update your payment method in the portal to keep it."
        )
    if state == "lapsed":
        return (
            f"Your payment lapsed: the {tenant['plan_in_force']} plan's limits apply until you pay."
        )
    return f"You are on the {tenant['plan']} plan, in good standing."


async def _subscription(
    request: Request,
    me: SignedIn,
    api: TenantApi,
    *,
    error: str | None = None,
    status: int = 200,
    link: dict[str, str] | None = None,
) -> Response:
    tenant = await api.get("billing", "/api/v1/account")
    usage = await api.get("billing", "/api/v1/usage")
    context = {
        "tenant": tenant,
        "standing": standing(tenant),
        "usage": usage,
        "today": usage[-1] if usage else None,
        "error": error,
        "link": link,
        "tab": "subscription",
    }
    return await render(request, "account/subscription.html", context, me=me, status_code=status)


@router.get(SUBSCRIPTION)
async def subscription(request: Request, me: Me, api: Api) -> Response:
    """Plan, usage against limits, the way to Checkout and the portal, standing in words."""
    return await _subscription(request, me, api)


async def _stripe(request: Request, me: SignedIn, api: TenantApi, path: str, body: Any) -> Response:
    try:
        link = await api.post("billing", path, json=body)
    except ApiError as exc:
        return await _subscription(request, me, api, error=exc.message, status=refused_status(exc))
    url = str(link["url"])
    if not url.startswith(("https://", "http://")):
        return await _subscription(
            request, me, api, error="The payment provider gave no usable link.", status=502
        )
    # A link, not a redirect: the CSP's form-action 'self' stops a form's redirect elsewhere.
    what = "Stripe Checkout" if path.endswith("checkout") else "the billing portal"
    return await _subscription(request, me, api, link={"url": url, "what": what})


@router.post(SUBSCRIPTION + "/checkout")
async def checkout(request: Request, me: Me, api: Api, _: Checked) -> Response:
    """Off to Stripe Checkout to subscribe to a plan."""
    form = await form_of(request)
    return await _stripe(
        request, me, api, "/api/v1/billing/checkout", {"plan": form.get("plan", "")}
    )


@router.post(SUBSCRIPTION + "/portal")
async def portal(request: Request, me: Me, api: Api, _: Checked) -> Response:
    """Off to Stripe's portal: invoices, card, cancellation."""
    return await _stripe(request, me, api, "/api/v1/billing/portal", None)

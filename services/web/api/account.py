"""The account hub: its overview and the exchange accounts tab (API keys, webhooks and the
subscription have modules of their own). Every change goes to the accounts API.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from services.web.api import exchanges
from services.web.api.common import back, form_of, refused_status, render
from services.web.errors import ApiError
from services.web.session import SignedIn, verify_csrf
from services.web.tenant_api import Api, Me, TenantApi

router = APIRouter()
Checked = Annotated[None, Depends(verify_csrf)]


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

"""Trade settings: one form per layer (tenant, each account, each symbol of an account), the
settings in force for an account and symbol, and the kill switch one click away.

A layer is edited as its JSON document (every field of docs/router.md, nothing hidden); the
router checks it and its refusal is shown next to that layer's form.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from services.web.pages.common import back, form_of, refused_status, render
from services.web.pages.layers import change_layer, layer_path
from services.web.session import SignedIn, verify_csrf
from services.web.tenant_api import Api, ApiError, Me, TenantApi

router = APIRouter()
Checked = Annotated[None, Depends(verify_csrf)]
PAGE = "/settings/trade"
MAX_DOCUMENT = 20_000


def _key(account: str, symbol: str) -> str:
    return f"{account}/{symbol}"  # labels have no "/": unique


async def _effective(api: TenantApi, account: str, symbol: str) -> tuple[Any, str | None]:
    params = {"account": account, "symbol": symbol if account else ""}
    try:
        return await api.get("router", "/api/v1/settings/effective", params=params), None
    except ApiError as exc:
        return None, exc.message


async def _page(
    request: Request,
    me: SignedIn,
    api: TenantApi,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
    drafts: dict[str, str] | None = None,
) -> Response:
    overview = await api.get("router", "/api/v1/settings")
    accounts = await api.get("accounts", "/api/v1/exchange-accounts")
    account = request.query_params.get("account", "")[:64]
    symbol = request.query_params.get("symbol", "")[:64]
    effective, effective_error = await _effective(api, account, symbol)
    layers = overview["layers"]
    tenant = next((x for x in layers if x["scope"] == "tenant"), None)
    context = {
        "layers": [
            x
            | {
                "key": _key(x["account_label"] or "", x["symbol"] or ""),
                "document": json.dumps(x["settings"], indent=2),
            }
            for x in layers
        ],
        "has_tenant": tenant is not None,
        "enabled": (tenant or {}).get("settings", {}).get("enabled", True) is not False,
        "accounts": [a["label"] for a in accounts["accounts"]],
        "effective": effective,
        "effective_error": effective_error,
        "chosen": {"account": account, "symbol": symbol},
        "errors": errors or {},
        "drafts": drafts or {},
    }
    return await render(request, "settings/trade.html", context, me=me, status_code=status)


@router.get(PAGE)
async def trade_settings(request: Request, me: Me, api: Api) -> Response:
    """Every layer's form, the effective settings, the kill switch."""
    return await _page(request, me, api)


class DocumentError(ValueError):
    """The posted settings are not a JSON object; the message says why."""


def _document(text: str) -> dict[str, Any]:
    if len(text) > MAX_DOCUMENT:
        raise ValueError("The settings are too long (20,000 characters at most).")
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"The settings are not valid JSON: {exc.msg} (line {exc.lineno})."
        ) from None
    if not isinstance(value, dict):
        raise DocumentError('The settings are a JSON object: {"field": value, …}.')
    return value


@router.post(PAGE + "/layer")
async def save_layer(request: Request, me: Me, api: Api, _: Checked) -> Response:
    """Replace one layer with the posted JSON (only if it is still at the posted version)."""
    form = await form_of(request)
    account, symbol = form.get("account", ""), form.get("symbol", "")
    key, text = form.get("form_key") or _key(account, symbol), form.get("settings", "")
    if symbol and not account:
        return await _page(
            request, me, api, errors={key: "Choose the account of this symbol."}, status=400
        )
    try:
        settings = _document(text)
        version = form.get("version") or None
        headers = {"If-Match": version} if version and version.isdigit() else None
        await api.put("router", layer_path(account, symbol), json=settings, headers=headers)
    except ValueError as exc:
        return await _page(request, me, api, errors={key: str(exc)}, status=400, drafts={key: text})
    except ApiError as exc:
        return await _page(
            request,
            me,
            api,
            errors={key: exc.message},
            status=refused_status(exc),
            drafts={key: text},
        )
    return back(PAGE, "Settings saved.")


@router.post(PAGE + "/layer/delete")
async def delete_layer(request: Request, me: Me, api: Api, _: Checked) -> Response:
    """Remove one layer: the layers above it (or the defaults) apply again."""
    form = await form_of(request)
    account, symbol = form.get("account", ""), form.get("symbol", "")
    version = form.get("version", "")
    headers = {"If-Match": version} if version.isdigit() else None
    try:
        await api.delete("router", layer_path(account, symbol), headers=headers)
    except ApiError as exc:
        errors = {_key(account, symbol): exc.message}
        return await _page(request, me, api, errors=errors, status=refused_status(exc))
    return back(PAGE, "Layer removed.")


@router.post(PAGE + "/kill-switch")
async def kill_switch(request: Request, me: Me, api: Api, _: Checked) -> Response:
    """Stop every order (``enabled=0``) or trade again (``enabled=1``): the tenant layer."""
    form = await form_of(request)
    enabled = form.get("enabled") == "1"

    def change(settings: dict[str, Any]) -> dict[str, Any]:
        return settings | {"enabled": enabled}

    try:
        await change_layer(api, layer_path(), change)
    except ApiError as exc:
        return await _page(
            request, me, api, errors={"kill-switch": exc.message}, status=refused_status(exc)
        )
    return back(
        PAGE, "Trading is on." if enabled else "Trading is stopped: no order will be placed."
    )

"""Trade settings: one form per layer (tenant, each account, each symbol of an account), the
settings in force for an account and symbol, and the kill switch one click away.

Each layer's form has one input per setting, generated from the router's published schema
(`settings_source`); an empty input inherits from the layer above. The router checks the
layer; its refusal is shown next to the input it names, with what the trader typed kept.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from services.web.api.common import back, form_of, refused_status, render
from services.web.api.layers import PRECONDITION_FAILED, change_layer, layer_path
from services.web.api.settings_form import Parsed, Values, form_values, parse, values_of
from services.web.api.settings_schema import SettingField
from services.web.api.settings_source import schema_source, settings_fields
from services.web.api.settings_view import LayerForm, placed_errors
from services.web.errors import ApiError
from services.web.session import SignedIn, verify_csrf
from services.web.tenant_api import Api, Me, TenantApi

router = APIRouter()
Checked = Annotated[None, Depends(verify_csrf)]
PAGE = "/settings/trade"
INVALID = 422
CHANGED = (
    "These settings were changed meanwhile (in another tab, or by someone else): nothing was "
    "saved. Your input is kept below; the values in force are the current ones. Save again "
    "to replace them with yours."
)
EXISTS = "That layer exists already: nothing was saved. Change it in its own form above."
FIX_BELOW = "Some settings need a change: see the messages next to them."
MAX_TYPED = 50_000  # characters over all inputs of one layer: far above any real layer


def _key(account: str, symbol: str) -> str:
    return f"{account}/{symbol}"  # labels have no "/": unique


def _title(scope: str, account: str, symbol: str) -> str:
    if scope == "tenant":
        return "Tenant (all accounts)"
    return f"Account {account}" if scope == "account" else f"{symbol} on {account}"


async def _effective(api: TenantApi, account: str, symbol: str) -> tuple[Any, str | None]:
    params = {"account": account, "symbol": symbol if account else ""}
    try:
        return await api.get("router", "/api/v1/settings/effective", params=params), None
    except ApiError as exc:
        return None, exc.message


class Outcome:
    """What a failed save leaves on the page: one layer's message, errors and input."""

    def __init__(self, key: str, message: str, values: Values | None = None) -> None:
        self.key, self.message, self.values = key, message, values
        self.errors: dict[str, str] = {}
        self.target = ("", "")  # the new-layer form's account and symbol, as typed


def _forms(
    fields: tuple[SettingField, ...], layers: list[dict[str, Any]], outcome: Outcome | None
) -> list[LayerForm]:
    stored = {_key(x["account_label"] or "", x["symbol"] or ""): x for x in layers}
    if "/" not in stored:  # no tenant layer yet: its form adds it
        stored = {"/": {"scope": "tenant", "account_label": "", "symbol": ""}} | stored
    forms = []
    for index, (key, layer) in enumerate(stored.items()):
        account, symbol = layer["account_label"] or "", layer["symbol"] or ""
        form = LayerForm(
            key=key,
            fid=f"layer-{index}",
            title=_title(layer["scope"], account, symbol),
            scope=layer["scope"],
            account=account,
            symbol=symbol,
            version=layer.get("version"),
            updated_at=layer.get("updated_at"),
            values=values_of(fields, layer.get("settings") or {}),
        )
        forms.append(form)
    forms.append(
        LayerForm(key="new", fid="layer-new", title="New account or symbol layer", scope="new")
    )
    for form in forms:
        if outcome is not None and outcome.key == form.key:
            form.message, form.errors = outcome.message, outcome.errors
            form.values = outcome.values if outcome.values is not None else form.values
            if form.scope == "new":
                form.account, form.symbol = outcome.target
    return forms


async def _page(
    request: Request,
    me: SignedIn,
    api: TenantApi,
    *,
    outcome: Outcome | None = None,
    status: int = 200,
) -> Response:
    fields = await settings_fields(request)
    overview = await api.get("router", "/api/v1/settings")
    accounts = await api.get("accounts", "/api/v1/exchange-accounts")
    account = request.query_params.get("account", "")[:64]
    symbol = request.query_params.get("symbol", "")[:64]
    layers = overview["layers"]
    forms = _forms(fields, layers, outcome)
    scoped = [f for f in forms if f.scope != "new"]
    found = await asyncio.gather(
        _effective(api, account, symbol), *(_effective(api, f.account, f.symbol) for f in scoped)
    )
    (effective, effective_error), *per_layer = found
    for form, (in_force, _error) in zip(scoped, per_layer, strict=True):
        form.effective = (in_force or {}).get("settings")
    tenant = next((x for x in layers if x["scope"] == "tenant"), None)
    context = {
        "fields": fields,
        "forms": forms,
        "enabled": (tenant or {}).get("settings", {}).get("enabled", True) is not False,
        "accounts": [a["label"] for a in accounts["accounts"]],
        "effective": effective,
        "effective_error": effective_error,
        "chosen": {"account": account, "symbol": symbol},
        "kill_error": outcome.message if outcome and outcome.key == "kill-switch" else None,
    }
    return await render(request, "settings/trade.html", context, me=me, status_code=status)


@router.get(PAGE)
async def trade_settings(request: Request, me: Me, api: Api) -> Response:
    """Every layer's form, the effective settings, the kill switch."""
    return await _page(request, me, api)


async def _posted(request: Request) -> tuple[dict[str, str], Values]:
    form = await request.form()
    items = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    plain = {k: v.strip() for k, v in items if not k.startswith("s.")}
    return plain, form_values(items)


@router.post(PAGE + "/layer")
async def save_layer(request: Request, me: Me, api: Api, _: Checked) -> Response:
    """Replace one layer with the form's settings (only if it is still at the posted version)."""
    plain, values = await _posted(request)
    account, symbol = plain.get("account", ""), plain.get("symbol", "")
    key = plain.get("form_key") or _key(account, symbol)
    outcome = Outcome(key, FIX_BELOW, values)
    outcome.target = (account, symbol)
    if symbol and not account:
        outcome.message = "Choose the account of this symbol."
        return await _page(request, me, api, outcome=outcome, status=400)
    if sum(len(v) for typed in values.values() for v in typed) > MAX_TYPED:
        outcome.message, outcome.values = "These settings are too long to be a layer.", None
        return await _page(request, me, api, outcome=outcome, status=413)
    fields = await settings_fields(request)
    parsed = parse(fields, values)
    if parsed.errors:
        outcome.errors = parsed.errors
        return await _page(request, me, api, outcome=outcome, status=400)
    version = plain.get("version", "")
    headers = {"If-Match": version} if version.isdigit() else None
    try:
        await api.put("router", layer_path(account, symbol), json=parsed.body, headers=headers)
    except ApiError as exc:
        outcome = _refusal(
            request,
            exc,
            outcome=outcome,
            fields=fields,
            parsed=parsed,
            version=version,
        )
        return await _page(request, me, api, outcome=outcome, status=refused_status(exc))
    return back(PAGE, "Settings saved.")


def _refusal(
    request: Request,
    exc: ApiError,
    *,
    outcome: Outcome,
    fields: tuple[SettingField, ...],
    parsed: Parsed,
    version: str,
) -> Outcome:
    if exc.status == PRECONDITION_FAILED:
        outcome.message = EXISTS if version == "0" and outcome.key == "new" else CHANGED
        return outcome
    outcome.message = exc.message
    if exc.status == INVALID:
        schema_source(request).forget()  # the router may know settings this form does not
        problems = [(parsed.form_path(p.field), p.message) for p in exc.errors]
        outcome.errors, rest = placed_errors(fields, problems)
        if outcome.errors:
            outcome.message = " ".join([FIX_BELOW, *rest])
    return outcome


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
        message = CHANGED if exc.status == PRECONDITION_FAILED else exc.message
        outcome = Outcome(_key(account, symbol), message)
        return await _page(request, me, api, outcome=outcome, status=refused_status(exc))
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
        outcome = Outcome("kill-switch", exc.message)
        return await _page(request, me, api, outcome=outcome, status=refused_status(exc))
    return back(
        PAGE, "Trading is on." if enabled else "Trading is stopped: no order will be placed."
    )

"""API keys (account hub tab): create (shown once), rotate with grace, revoke; the key the web
app itself signs in with is marked and cannot be changed here.
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from services.web.api.common import back, form_of, refused_status, render
from services.web.errors import ApiError
from services.web.session import SignedIn, verify_csrf
from services.web.tenant_api import Api, Me, TenantApi
from services.web.tenant_keys import tenant_api_key

router = APIRouter()
Checked = Annotated[None, Depends(verify_csrf)]
KEYS = "/api/v1/api-keys"
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ROTATE_GRACES = ((0, "at once"), (3600, "in 1 hour"), (86_400, "in 24 hours"))

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

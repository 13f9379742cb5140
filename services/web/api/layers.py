"""The router's trade-settings layers as the pages change them: read a layer with its version,
change some fields, write it back only if nobody changed it meanwhile (``If-Match``), once
more on a conflict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from services.web.errors import ApiError
from services.web.tenant_api import TenantApi

PRECONDITION_FAILED = 412
NOT_FOUND = 404
BASE = "/api/v1/settings"


def layer_path(account: str = "", symbol: str = "") -> str:
    """The router path of the tenant layer, an account's, or a symbol's of an account."""
    if not account:
        return f"{BASE}/tenant"
    path = f"{BASE}/accounts/{quote(account, safe='')}"
    return f"{path}/symbols/{quote(symbol, safe='/')}" if symbol else path


@dataclass(frozen=True)
class Layer:
    """One layer's fields as set, and its version (None: not set yet)."""

    settings: dict[str, Any]
    version: int | None


async def read_layer(api: TenantApi, path: str) -> Layer:
    """The layer at ``path``; an empty one when nothing is set there."""
    try:
        stored = await api.get("router", path)
    except ApiError as exc:
        if exc.status == NOT_FOUND:
            return Layer({}, None)
        raise
    return Layer(dict(stored.get("settings") or {}), int(stored["version"]))


async def write_layer(
    api: TenantApi, path: str, settings: dict[str, Any], version: int | None
) -> None:
    """Replace the layer, if it is still at ``version``."""
    headers = {"If-Match": str(version)} if version is not None else None
    await api.put("router", path, json=settings, headers=headers)


async def change_layer(
    api: TenantApi, path: str, change: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    """Apply ``change`` to the layer's fields and write them back (retried once on a race)."""
    for attempt in range(2):
        layer = await read_layer(api, path)
        try:
            await write_layer(api, path, change(dict(layer.settings)), layer.version)
        except ApiError as exc:
            if exc.status != PRECONDITION_FAILED or attempt:
                raise
        else:
            return

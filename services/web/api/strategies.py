"""Strategies: one card per strategy seen in alerts (alerts, trades, win rate, PnL, last
signal), each with its pause or resume button (the router's ``paused_strategies``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from services.web.api.common import back, form_of, refused_status, render
from services.web.api.layers import change_layer, layer_path, read_layer
from services.web.errors import ApiError
from services.web.session import verify_csrf
from services.web.tenant_api import Api, Me, TenantApi

router = APIRouter()
Checked = Annotated[None, Depends(verify_csrf)]
MAX_NAME = 500


async def _page(
    request: Request, me: Any, api: TenantApi, error: str | None = None, status: int = 200
) -> Response:
    found = await api.get("ledger", "/api/v1/strategies")
    tenant = await read_layer(api, layer_path())
    paused = set(tenant.settings.get("paused_strategies") or [])
    context = {"strategies": found["strategies"], "paused": paused, "error": error}
    return await render(request, "strategies/index.html", context, me=me, status_code=status)


@router.get("/strategies")
async def strategies(request: Request, me: Me, api: Api) -> Response:
    """The strategy cards."""
    return await _page(request, me, api)


def _with(name: str, *, pause: bool) -> Any:
    def change(settings: dict[str, Any]) -> dict[str, Any]:
        paused = [s for s in settings.get("paused_strategies") or [] if s != name]
        settings["paused_strategies"] = [*paused, name] if pause else paused
        return settings

    return change


@router.post("/strategies/pause")
async def pause(request: Request, me: Me, api: Api, _: Checked) -> Response:
    """Pause (``pause=1``) or resume (``pause=0``) one strategy: its alerts are refused."""
    form = await form_of(request)
    name, pause_it = form.get("strategy", ""), form.get("pause") == "1"
    if not name or len(name) > MAX_NAME:
        return await _page(request, me, api, "Choose a strategy to pause or resume.", 400)
    try:
        await change_layer(api, layer_path(), _with(name, pause=pause_it))
    except ApiError as exc:
        return await _page(request, me, api, exc.message, refused_status(exc))
    return back("/strategies", f"Strategy {name} {'paused' if pause_it else 'resumed'}.")

"""Reading trade settings: all layers, what is in force (now or then), the change history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import AwareDatetime

from libs.common.api import answers
from libs.common.auth import CurrentTenant
from libs.common.messages.types import FrozenModel, Iso8601
from services.router import examples
from services.router.api.deps import AccountQuery, Runtime, SymbolQuery
from services.router.domain.layers import effective_settings
from services.router.domain.trade_settings import EffectiveSettings, Scope
from services.router.store.records import Change, LayerKey, StoredLayer

router = APIRouter(
    prefix="/api/v1/settings", tags=["trade settings"], responses=answers(401, 403, 503)
)
MAX_BIGINT = 2**63 - 1
At = Annotated[AwareDatetime | None, Iso8601, Query(description="A past time, ISO 8601.")]


class Overview(FrozenModel):
    """Every layer the tenant has set."""

    layers: list[StoredLayer]


class Effective(FrozenModel):
    """The merged settings for one (account, symbol), now or at a past time."""

    account: str | None
    symbol: str | None
    at: datetime | None
    settings: EffectiveSettings
    layers: list[Scope]


@router.get("", responses=examples.answer({"layers": [examples.STORED_LAYER]}))
async def overview(tenant: CurrentTenant, runtime: Runtime) -> Overview:
    """Return every settings layer you have set."""
    return Overview(layers=await runtime.store.layers(tenant.tenant_id))


@router.get("/effective", responses=examples.answer(examples.EFFECTIVE))
async def effective(
    tenant: CurrentTenant,
    runtime: Runtime,
    account: AccountQuery = None,
    symbol: SymbolQuery = None,
    at: At = None,
) -> Effective:
    """Return the settings in force for an account and symbol, now or at ``at``."""
    if symbol is not None and account is None:
        raise HTTPException(422, "Give the account too: symbol settings belong to an account.")
    store, tenant_id = runtime.store, tenant.tenant_id
    settings = await (store.as_of(tenant_id, at) if at else store.load(tenant_id))
    key = symbol.upper() if symbol else None
    return Effective(
        account=account,
        symbol=key,
        at=at,
        settings=effective_settings(settings, account, key),
        layers=[scope for scope, _ in settings.layers(account, key)],
    )


@router.get("/history", responses=examples.answer([examples.CHANGE]))
async def history(
    *,
    tenant: CurrentTenant,
    runtime: Runtime,
    scope: Scope | None = None,
    account: AccountQuery = None,
    symbol: SymbolQuery = None,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_BIGINT, description="A change id: older ones.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[Change]:
    """Return changes, newest first (all, or one layer's); page with ``before`` (a change id)."""
    key = _history_key(scope, account, symbol)
    return await runtime.store.history(tenant.tenant_id, key, before_id=before, limit=limit)


def _history_key(scope: Scope | None, account: str | None, symbol: str | None) -> LayerKey | None:
    if scope is None and account is None and symbol is None:
        return None
    if scope is Scope.TENANT:
        return LayerKey.tenant()
    if account is None:
        raise HTTPException(422, "Give the account whose settings history you want.")
    return LayerKey.for_symbol(account, symbol) if symbol else LayerKey.account(account)

"""The tenant API of trade settings: read, replace and remove each layer.

Every route acts for the tenant of the API key (``CurrentTenant``); a change is recorded with
the key's id, and announced so every router replica uses it for the next intent; a change
that moves a kill switch is also announced on EVENTS (``settings.kill_switch``).
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status

from libs.common.api import answers
from libs.common.auth import CurrentTenant
from services.router import examples
from services.router.api.deps import AccountLabel, ExpectedVersion, Runtime, SymbolName
from services.router.api.errors import VersionConflictBody
from services.router.domain.trade_settings import TradeSettingsLayer
from services.router.errors import SettingsInvalidError
from services.router.runtime import RouterRuntime
from services.router.store.records import Change, LayerKey, StoredLayer

router = APIRouter(
    prefix="/api/v1/settings", tags=["trade settings"], responses=answers(401, 403, 503)
)
ACCOUNT = "/accounts/{label}"
SYMBOL = "/accounts/{label}/symbols/{symbol:path}"
STALE = {412: {"model": VersionConflictBody, "description": "If-Match names an older version."}}
READ = answers(404) | examples.answer(examples.STORED_LAYER)
CHANGE = answers(422) | STALE | examples.answer(examples.CHANGE)
REMOVE = answers(404, 422) | STALE


async def _get(runtime: RouterRuntime, tenant_id: str, key: LayerKey) -> StoredLayer:
    found = await runtime.store.get(tenant_id, key)
    if found is None:
        raise HTTPException(404, "Nothing is set here; the layers above (or the defaults) apply.")
    return found


async def _put(
    runtime: RouterRuntime,
    tenant: CurrentTenant,
    key: LayerKey,
    layer: TradeSettingsLayer,
    expected: int | None,
) -> Change:
    errors = layer.scope_errors(key.scope)
    if errors:
        raise SettingsInvalidError(errors)
    change = await runtime.store.put(
        tenant.tenant_id,
        key,
        layer,
        by=tenant.key_id,
        now=runtime.clock(),
        expected_version=expected,
    )
    await _announce(runtime, tenant.tenant_id, change)
    return change


async def _delete(
    runtime: RouterRuntime, tenant: CurrentTenant, key: LayerKey, expected: int | None
) -> Response:
    change = await runtime.store.delete(
        tenant.tenant_id, key, by=tenant.key_id, now=runtime.clock(), expected_version=expected
    )
    if change is None:
        raise HTTPException(404, "Nothing is set here, so there is nothing to delete.")
    await _announce(runtime, tenant.tenant_id, change)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _announce(runtime: RouterRuntime, tenant_id: str, change: Change) -> None:
    if runtime.notifier is not None:
        await runtime.notifier.changed(tenant_id, change.id)
    if runtime.announcer is not None:  # settings.kill_switch, when the change moved one
        await runtime.announcer.announce(tenant_id, change)


@router.get("/tenant", responses=READ)
async def get_tenant(tenant: CurrentTenant, runtime: Runtime) -> StoredLayer:
    """Return your tenant-wide defaults."""
    return await _get(runtime, tenant.tenant_id, LayerKey.tenant())


@router.put("/tenant", responses=CHANGE, openapi_extra=examples.LAYER_BODY)
async def put_tenant(
    layer: TradeSettingsLayer, tenant: CurrentTenant, runtime: Runtime, expected: ExpectedVersion
) -> Change:
    """Replace your tenant-wide defaults."""
    return await _put(runtime, tenant, LayerKey.tenant(), layer, expected)


@router.delete("/tenant", status_code=204, responses=REMOVE)
async def delete_tenant(
    tenant: CurrentTenant, runtime: Runtime, expected: ExpectedVersion
) -> Response:
    """Remove your tenant-wide defaults (the built-in defaults apply)."""
    return await _delete(runtime, tenant, LayerKey.tenant(), expected)


@router.get(ACCOUNT, responses=READ)
async def get_account(label: AccountLabel, tenant: CurrentTenant, runtime: Runtime) -> StoredLayer:
    """Return one exchange account's settings."""
    return await _get(runtime, tenant.tenant_id, LayerKey.account(label))


@router.put(ACCOUNT, responses=CHANGE, openapi_extra=examples.LAYER_BODY)
async def put_account(
    label: AccountLabel,
    layer: TradeSettingsLayer,
    tenant: CurrentTenant,
    runtime: Runtime,
    expected: ExpectedVersion,
) -> Change:
    """Replace one exchange account's settings."""
    return await _put(runtime, tenant, LayerKey.account(label), layer, expected)


@router.delete(ACCOUNT, status_code=204, responses=REMOVE)
async def delete_account(
    label: AccountLabel, tenant: CurrentTenant, runtime: Runtime, expected: ExpectedVersion
) -> Response:
    """Remove one exchange account's settings."""
    return await _delete(runtime, tenant, LayerKey.account(label), expected)


@router.get(SYMBOL, responses=READ)
async def get_symbol(
    label: AccountLabel, symbol: SymbolName, tenant: CurrentTenant, runtime: Runtime
) -> StoredLayer:
    """Return one symbol's settings on one account."""
    return await _get(runtime, tenant.tenant_id, LayerKey.for_symbol(label, symbol))


# 404: a symbol with a line break matches no route.
@router.put(SYMBOL, responses=CHANGE | answers(404), openapi_extra=examples.LAYER_BODY)
async def put_symbol(
    *,
    label: AccountLabel,
    symbol: SymbolName,
    layer: TradeSettingsLayer,
    tenant: CurrentTenant,
    runtime: Runtime,
    expected: ExpectedVersion,
) -> Change:
    """Replace one symbol's settings on one account."""
    return await _put(runtime, tenant, LayerKey.for_symbol(label, symbol), layer, expected)


@router.delete(SYMBOL, status_code=204, responses=REMOVE)
async def delete_symbol(
    label: AccountLabel,
    symbol: SymbolName,
    tenant: CurrentTenant,
    runtime: Runtime,
    expected: ExpectedVersion,
) -> Response:
    """Remove one symbol's settings on one account."""
    return await _delete(runtime, tenant, LayerKey.for_symbol(label, symbol), expected)

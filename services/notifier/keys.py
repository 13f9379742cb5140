"""The tenant API key the notifier acts with (toward the ledger, the router, billing).

Made when a tenant first adds a channel, by billing's ``POST /api/v1/api-keys`` (label
``notifier``) called with that caller's own key; kept sealed; revoked when the tenant's last
channel goes. The key never leaves the notifier: not in an answer, a log or a message.
"""

from __future__ import annotations

import logging

import httpx

from services.notifier.errors import ConflictError, UpstreamError
from services.notifier.runtime import Runtime
from services.notifier.store import channels as store

log = logging.getLogger(__name__)
LABEL = "notifier"
_BILLING_DOWN = "Billing cannot be reached to make the notifier's API key; try again shortly."


async def ensure_kept_key(runtime: Runtime, tenant_id: str, caller_key: str) -> None:
    """Make sure the notifier holds a key of ``tenant_id``; make one with ``caller_key``."""
    async with runtime.db.as_tenant(tenant_id) as conn:
        if await store.kept_key(conn, runtime.box, tenant_id) is not None:
            return
    key_id, key = await _create(runtime, caller_key)
    async with runtime.db.as_tenant(tenant_id) as conn:
        kept = await store.kept_key(conn, runtime.box, tenant_id)
        if kept is None:
            await store.keep_key(
                conn, runtime.box, tenant_id, key_id=key_id, key=key, now=runtime.clock()
            )
            return
    await _revoke(runtime, caller_key, key_id)  # another request kept one meanwhile


async def revoke_kept_key(runtime: Runtime, tenant_id: str, caller_key: str) -> None:
    """Forget and revoke the kept key (the tenant's last channel went)."""
    async with runtime.db.as_tenant(tenant_id) as conn:
        key_id = await store.forget_key(conn, tenant_id)
    if key_id is not None:
        await _revoke(runtime, caller_key, key_id)


async def _create(runtime: Runtime, caller_key: str) -> tuple[str, str]:
    url = f"{runtime.settings.billing_url}/api/v1/api-keys"
    try:
        response = await runtime.http.post(
            url,
            json={"label": LABEL},
            headers={"Authorization": f"Bearer {caller_key}"},
            timeout=runtime.settings.api_timeout_s,
        )
    except httpx.HTTPError as exc:
        raise UpstreamError(_BILLING_DOWN) from exc
    if response.status_code == 409:
        raise ConflictError(
            "Your account has as many API keys as it may; revoke one so the notifier can have "
            "its own."
        )
    if response.status_code != 201:
        log.warning("billing answered %d to the notifier's key request", response.status_code)
        raise UpstreamError(_BILLING_DOWN)
    body = response.json()
    return str(body["api_key"]["key_id"]), str(body["key"])


async def _revoke(runtime: Runtime, caller_key: str, key_id: str) -> None:
    url = f"{runtime.settings.billing_url}/api/v1/api-keys/{key_id}"
    try:
        response = await runtime.http.delete(
            url,
            headers={"Authorization": f"Bearer {caller_key}"},
            timeout=runtime.settings.api_timeout_s,
        )
    except httpx.HTTPError:
        log.warning("the notifier's key %s could not be revoked: billing unreachable", key_id)
        return
    if response.status_code not in {204, 404}:
        log.warning(
            "billing answered %d revoking the notifier's key %s", response.status_code, key_id
        )

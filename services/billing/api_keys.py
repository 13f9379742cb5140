"""A tenant's API keys: issue, list, rotate, revoke; scoped by tenant like webhooks."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from libs.common.ids import TenantId
from services.billing.domain.credentials import ApiKey
from services.billing.errors import LimitReachedError, NotFoundError
from services.billing.issuing import add_api_key, end_key, publish_late, publish_new
from services.billing.runtime import Runtime, api_key_change
from services.billing.schemas import ApiKeyCreated, ApiKeySpec, ApiKeyView, Rotation
from services.billing.store import credentials as store
from services.billing.views import api_key_view


class ApiKeys:
    """The use cases on API keys, for one tenant at a time."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt

    async def create_api_key(self, tenant_id: TenantId, spec: ApiKeySpec) -> ApiKeyCreated:
        """Issue an API key (at most the configured number per tenant), shown once."""
        now = self._rt.now()
        async with self._rt.engine.begin() as conn:
            await self._rt.locked_tenant(conn, tenant_id)
            await self._check_room_for_key(conn, tenant_id, now)
            key, secret = await add_api_key(conn, tenant_id, spec.label, now)

        async def undo(conn: AsyncConnection) -> None:
            await store.delete_api_key(conn, key.key_id)

        await publish_new(self._rt, [api_key_change(key, now)], undo)
        return ApiKeyCreated(api_key=api_key_view(key, now), key=secret)

    async def _check_room_for_key(
        self, conn: AsyncConnection, tenant_id: str, now: datetime
    ) -> None:
        allowed = self._rt.settings.max_api_keys_per_tenant
        if len(await store.list_api_keys(conn, tenant_id, now)) >= allowed:
            raise LimitReachedError(
                f"An account holds at most {allowed} API keys; revoke one you no longer use."
            )

    async def list_api_keys(self, tenant_id: str) -> list[ApiKeyView]:
        """List the tenant's API keys, masked."""
        now = self._rt.now()
        async with self._rt.engine.connect() as conn:
            keys = await store.list_api_keys(conn, tenant_id)
        return [api_key_view(k, now) for k in keys]

    async def _locked_key(self, conn: AsyncConnection, tenant_id: str, key_id: str) -> ApiKey:
        await self._rt.locked_tenant(conn, tenant_id)
        key = await store.get_api_key(conn, tenant_id, key_id, for_update=True)
        if key is None or key.revoked_at is not None:
            raise NotFoundError(f"You have no API key {key_id} (or it was revoked).")
        return key

    async def rotate_api_key(
        self, tenant_id: TenantId, key_id: str, rotation: Rotation
    ) -> ApiKeyCreated:
        """Issue a new key with the same label; the old one works ``grace_seconds`` more."""
        now = self._rt.now()
        ends = now + timedelta(seconds=rotation.grace_seconds)
        async with self._rt.engine.begin() as conn:
            old = await self._locked_key(conn, tenant_id, key_id)
            key, secret = await add_api_key(conn, tenant_id, old.label, now)
            ended = await end_key(conn, old, ends, now)

        async def undo(conn: AsyncConnection) -> None:
            await store.delete_api_key(conn, key.key_id)
            await store.end_api_key(conn, old.key_id, expires_at=old.expires_at, revoked_at=None)

        await publish_new(self._rt, [api_key_change(key, now)], undo)
        await publish_late(self._rt, [api_key_change(ended, now)])
        return ApiKeyCreated(api_key=api_key_view(key, now), key=secret)

    async def revoke_api_key(self, tenant_id: str, key_id: str) -> None:
        """Revoke an API key: it stops working within 2 seconds."""
        now = self._rt.now()
        async with self._rt.engine.begin() as conn:
            ended = await end_key(conn, await self._locked_key(conn, tenant_id, key_id), now, now)
        await self._rt.publish([api_key_change(ended, now)])

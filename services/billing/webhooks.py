"""A tenant's webhooks (one per strategy): issue, list, change, rotate, revoke.

Every lookup is scoped by tenant, so a tenant never sees or touches another's webhook: it
gets 404, as for an id that does not exist.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from libs.common.ids import TenantId
from services.billing.domain.credentials import Webhook, WebhookToken, passphrase_hash, webhook_url
from services.billing.errors import NotFoundError
from services.billing.issuing import (
    add_token,
    add_webhook,
    check_room_for_webhook,
    end_token,
    publish_late,
    publish_new,
)
from services.billing.runtime import Runtime, token_change
from services.billing.schemas import (
    Rotation,
    WebhookChange,
    WebhookCreated,
    WebhookSpec,
    WebhookView,
)
from services.billing.store import credentials as store
from services.billing.views import webhook_view


class Webhooks:
    """The use cases on webhooks, for one tenant at a time."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt

    async def create_webhook(self, tenant_id: TenantId, spec: WebhookSpec) -> WebhookCreated:
        """Issue a webhook within the plan's limit; its token is shown once."""
        now = self._rt.now()
        async with self._rt.engine.begin() as conn:
            tenant = await self._rt.locked_tenant(conn, tenant_id)
            await check_room_for_webhook(conn, self._rt, tenant)
            webhook, token, secret = await add_webhook(conn, tenant_id, spec, now)

        async def undo(conn: AsyncConnection) -> None:
            await store.delete_webhook(conn, webhook.webhook_id)

        await publish_new(self._rt, [token_change(webhook, token, now)], undo)
        return self._created(webhook, [token], secret, now)

    def _created(
        self, webhook: Webhook, tokens: list[WebhookToken], secret: str, now: datetime
    ) -> WebhookCreated:
        return WebhookCreated(
            webhook=webhook_view(webhook, tokens, now),
            token=secret,
            url=webhook_url(self._rt.settings.public_base_url, secret),
        )

    async def list_webhooks(self, tenant_id: str) -> list[WebhookView]:
        """List the tenant's webhooks, tokens masked."""
        now = self._rt.now()
        async with self._rt.engine.connect() as conn:
            webhooks = await store.list_webhooks(conn, tenant_id)
            tokens = await store.tokens_of(conn, [w.webhook_id for w in webhooks])
        return [webhook_view(w, tokens, now) for w in webhooks]

    async def _locked_webhook(
        self, conn: AsyncConnection, tenant_id: str, webhook_id: str
    ) -> Webhook:
        await self._rt.locked_tenant(conn, tenant_id)
        webhook = await store.get_webhook(conn, tenant_id, webhook_id, for_update=True)
        if webhook is None or webhook.revoked_at is not None:
            raise NotFoundError(f"You have no webhook {webhook_id} (or it was revoked).")
        return webhook

    async def update_webhook(
        self, tenant_id: str, webhook_id: str, change: WebhookChange
    ) -> WebhookView:
        """Change a webhook's label, allowlist or passphrase; its tokens stay the same."""
        now = self._rt.now()
        update = await _changes(change)  # hashed before the row is locked: it takes a while
        async with self._rt.engine.begin() as conn:
            webhook = await self._locked_webhook(conn, tenant_id, webhook_id)
            webhook = webhook.model_copy(update=update)
            await store.save_webhook(conn, webhook)
            tokens = await store.tokens_of(conn, [webhook_id], now)
        await self._rt.publish([token_change(webhook, t, now) for t in tokens])
        return webhook_view(webhook, tokens, now)

    async def rotate_webhook(
        self, tenant_id: str, webhook_id: str, rotation: Rotation
    ) -> WebhookCreated:
        """Issue a new token; the old ones work for ``grace_seconds`` more, then stop."""
        now = self._rt.now()
        ends = now + timedelta(seconds=rotation.grace_seconds)
        async with self._rt.engine.begin() as conn:
            webhook = await self._locked_webhook(conn, tenant_id, webhook_id)
            old = await store.tokens_of(conn, [webhook_id], now)
            token, secret = await add_token(conn, webhook, now)
            ended = [await end_token(conn, t, ends, now) for t in old]

        async def undo(conn: AsyncConnection) -> None:
            await store.delete_token(conn, token.digest)
            for before in old:
                await store.end_token(
                    conn, before.digest, expires_at=before.expires_at, revoked_at=None
                )

        await publish_new(self._rt, [token_change(webhook, token, now)], undo)
        await publish_late(self._rt, [token_change(webhook, t, now) for t in ended])
        return self._created(webhook, [token, *ended], secret, now)

    async def revoke_webhook(self, tenant_id: str, webhook_id: str) -> None:
        """Revoke a webhook: every token of it stops working within 2 seconds."""
        now = self._rt.now()
        async with self._rt.engine.begin() as conn:
            webhook = await self._locked_webhook(conn, tenant_id, webhook_id)
            tokens = await store.tokens_of(conn, [webhook_id], now)
            webhook = webhook.model_copy(update={"revoked_at": now})
            await store.save_webhook(conn, webhook)
            ended = [await end_token(conn, t, now, now) for t in tokens]
        await self._rt.publish([token_change(webhook, t, now) for t in ended])


async def _changes(change: WebhookChange) -> dict[str, object]:
    update: dict[str, object] = {}
    if change.label is not None:
        update["label"] = change.label
    if change.allowed_ips is not None:
        update["allowed_ips"] = tuple(change.allowed_ips)
    if "passphrase" in change.model_fields_set:
        secret = change.passphrase.get_secret_value() if change.passphrase else None
        update["passphrase_hash"] = await passphrase_hash(secret)
    return update

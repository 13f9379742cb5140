"""Issuing and ending secrets, shared by tenant creation, webhooks and API keys.

Every change is committed to Postgres first, then written to the KV buckets. A new secret is
only handed out once it is in its bucket: if that write fails, the creation is undone and
the caller is told nothing was created.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from libs.common.ids import TenantId, new_id
from libs.common.records import secret_digest
from services.billing.adapters.kv import KvChange
from services.billing.domain.credentials import (
    ApiKey,
    Webhook,
    WebhookToken,
    new_api_key,
    new_webhook_token,
    passphrase_hash,
    shown_prefix,
)
from services.billing.domain.plans import Tenant, limits_in_force
from services.billing.errors import LimitReachedError, NothingCreatedError, PublishError
from services.billing.runtime import Runtime
from services.billing.schemas import WebhookSpec
from services.billing.store import credentials as store

log = logging.getLogger(__name__)
Undo = Callable[[AsyncConnection], Awaitable[None]]


async def add_webhook(
    conn: AsyncConnection, tenant_id: TenantId, spec: WebhookSpec, now: datetime
) -> tuple[Webhook, WebhookToken, str]:
    """Insert a webhook and its first token; return them and the token in clear."""
    passphrase = spec.passphrase.get_secret_value() if spec.passphrase else None
    webhook = Webhook(
        webhook_id=new_id(),
        tenant_id=tenant_id,
        label=spec.label,
        allowed_ips=tuple(spec.allowed_ips),
        passphrase_hash=await passphrase_hash(passphrase),
        created_at=now,
    )
    await store.insert_webhook(conn, webhook)
    token, secret = await add_token(conn, webhook, now)
    return webhook, token, secret


async def add_token(
    conn: AsyncConnection, webhook: Webhook, now: datetime
) -> tuple[WebhookToken, str]:
    """Insert a new token for ``webhook``; return it and the token in clear."""
    secret = new_webhook_token()
    token = WebhookToken(
        digest=secret_digest(secret),
        webhook_id=webhook.webhook_id,
        tenant_id=webhook.tenant_id,
        prefix=shown_prefix(secret),
        created_at=now,
    )
    await store.insert_token(conn, token)
    return token, secret


async def add_api_key(
    conn: AsyncConnection, tenant_id: TenantId, label: str, now: datetime
) -> tuple[ApiKey, str]:
    """Insert a new API key; return it and the key in clear."""
    secret = new_api_key()
    key = ApiKey(
        key_id=new_id(),
        tenant_id=tenant_id,
        label=label,
        digest=secret_digest(secret),
        prefix=shown_prefix(secret),
        created_at=now,
    )
    await store.insert_api_key(conn, key)
    return key, secret


async def check_room_for_webhook(conn: AsyncConnection, rt: Runtime, tenant: Tenant) -> None:
    """Raise `LimitReachedError` if the tenant's plan allows no more webhooks."""
    plans = await rt.plans(conn)
    allowed = limits_in_force(tenant, plans, rt.settings.fallback_plan).max_webhooks
    if allowed is not None and await store.count_live_webhooks(conn, tenant.tenant_id) >= allowed:
        raise LimitReachedError(
            f"Your plan allows {allowed} webhook{'s' if allowed != 1 else ''} (one per "
            "strategy); revoke one you no longer use, or upgrade your plan."
        )


async def publish_new(rt: Runtime, changes: Sequence[KvChange], undo: Undo) -> None:
    """Publish a creation; if that fails, undo it and raise `NothingCreatedError`."""
    try:
        await rt.publish(changes)
    except PublishError as exc:
        await _undo(rt, changes, undo)
        raise NothingCreatedError(
            "Nothing was created: the change could not be published. Try again shortly."
        ) from exc


async def _undo(rt: Runtime, changes: Sequence[KvChange], undo: Undo) -> None:
    with contextlib.suppress(PublishError):  # nobody knows these secrets; reconciliation
        await rt.kv.apply([KvChange.delete(c.bucket, c.key) for c in changes])
    try:
        async with rt.engine.begin() as conn:
            await undo(conn)
    except Exception:
        log.exception("could not undo a creation; its secrets were never shown")


async def publish_late(rt: Runtime, changes: Sequence[KvChange]) -> None:
    """Publish the end of replaced secrets; on failure expiry and reconciliation finish it."""
    with contextlib.suppress(PublishError):
        await rt.publish(changes)


async def end_token(
    conn: AsyncConnection, token: WebhookToken, ends: datetime, now: datetime
) -> WebhookToken:
    """End a token at ``ends`` (at once when that is now); keep an earlier end."""
    if token.expires_at is not None and token.expires_at <= ends:
        return token
    update = (
        {"revoked_at": now, "expires_at": token.expires_at} if ends <= now else {"expires_at": ends}
    )
    ended = token.model_copy(update=update)
    await store.end_token(
        conn, token.digest, expires_at=ended.expires_at, revoked_at=ended.revoked_at
    )
    return ended


async def end_key(conn: AsyncConnection, key: ApiKey, ends: datetime, now: datetime) -> ApiKey:
    """End an API key at ``ends`` (at once when that is now); keep an earlier end."""
    if key.expires_at is not None and key.expires_at <= ends:
        return key
    update = (
        {"revoked_at": now, "expires_at": key.expires_at} if ends <= now else {"expires_at": ends}
    )
    ended = key.model_copy(update=update)
    await store.end_api_key(
        conn, key.key_id, expires_at=ended.expires_at, revoked_at=ended.revoked_at
    )
    return ended

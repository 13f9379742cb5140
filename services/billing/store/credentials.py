"""Webhooks, webhook tokens and API keys in Postgres (digests only, never secrets)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.billing.domain.credentials import ApiKey, Webhook, WebhookToken
from services.billing.errors import ConflictError
from services.billing.fsm import Lifecycle
from services.billing.store.tables import api_keys, tenants, webhook_tokens, webhooks

M = TypeVar("M", bound=BaseModel)


def _live(
    revoked_at: ColumnElement[Any], expires_at: ColumnElement[Any], now: datetime
) -> ColumnElement[bool]:
    return and_(revoked_at.is_(None), or_(expires_at.is_(None), expires_at > now))


async def _all(conn: AsyncConnection, query: Select[Any], model: type[M]) -> list[M]:
    return [model.model_validate(row) for row in (await conn.execute(query)).mappings()]


async def _one(
    conn: AsyncConnection, query: Select[Any], model: type[M], *, for_update: bool
) -> M | None:
    found = await _all(conn, query.with_for_update() if for_update else query, model)
    return found[0] if found else None


def _label_taken(label: str) -> ConflictError:
    return ConflictError(
        f"There is already a webhook labelled {label!r}; choose another label, "
        "or rotate that webhook's token instead."
    )


async def insert_webhook(conn: AsyncConnection, webhook: Webhook) -> None:
    """Add a webhook; raise `ConflictError` if the tenant has a live one with its label."""
    try:
        await conn.execute(insert(webhooks).values(**webhook.model_dump()))
    except IntegrityError as exc:
        raise _label_taken(webhook.label) from exc


async def insert_token(conn: AsyncConnection, token: WebhookToken) -> None:
    """Add a token to a webhook."""
    await conn.execute(insert(webhook_tokens).values(**token.model_dump()))


async def get_webhook(
    conn: AsyncConnection, tenant_id: str, webhook_id: str, *, for_update: bool = False
) -> Webhook | None:
    """Return the tenant's webhook (never another tenant's)."""
    query = select(webhooks).where(
        webhooks.c.tenant_id == tenant_id, webhooks.c.webhook_id == webhook_id
    )
    return await _one(conn, query, Webhook, for_update=for_update)


async def list_webhooks(conn: AsyncConnection, tenant_id: str) -> list[Webhook]:
    """Return the tenant's webhooks, oldest first, revoked ones included."""
    query = select(webhooks).where(webhooks.c.tenant_id == tenant_id)
    return await _all(conn, query.order_by(webhooks.c.webhook_id), Webhook)


async def count_live_webhooks(conn: AsyncConnection, tenant_id: str) -> int:
    """Return how many webhooks the tenant has that are not revoked."""
    query = select(func.count()).where(
        webhooks.c.tenant_id == tenant_id, webhooks.c.revoked_at.is_(None)
    )
    return int((await conn.execute(query)).scalar_one())


async def save_webhook(conn: AsyncConnection, webhook: Webhook) -> None:
    """Write a webhook's label, allowlist, passphrase and revocation."""
    values = webhook.model_dump(include={"label", "allowed_ips", "passphrase_hash", "revoked_at"})
    query = update(webhooks).where(webhooks.c.webhook_id == webhook.webhook_id)
    try:
        await conn.execute(query.values(**values))
    except IntegrityError as exc:
        raise _label_taken(webhook.label) from exc


async def tokens_of(
    conn: AsyncConnection, webhook_ids: list[str], now: datetime | None = None
) -> list[WebhookToken]:
    """Return the tokens of some webhooks; only the usable ones when ``now`` is given."""
    query = select(webhook_tokens).where(webhook_tokens.c.webhook_id.in_(webhook_ids))
    if now is not None:
        query = query.where(_live(webhook_tokens.c.revoked_at, webhook_tokens.c.expires_at, now))
    return await _all(conn, query.order_by(webhook_tokens.c.created_at), WebhookToken)


async def end_token(
    conn: AsyncConnection, digest: str, *, expires_at: datetime | None, revoked_at: datetime | None
) -> None:
    """Set when a token stops working (rotation) or that it stopped (revocation)."""
    query = update(webhook_tokens).where(webhook_tokens.c.digest == digest)
    await conn.execute(query.values(expires_at=expires_at, revoked_at=revoked_at))


async def insert_api_key(conn: AsyncConnection, key: ApiKey) -> None:
    """Add an API key."""
    await conn.execute(insert(api_keys).values(**key.model_dump()))


async def get_api_key(
    conn: AsyncConnection, tenant_id: str, key_id: str, *, for_update: bool = False
) -> ApiKey | None:
    """Return the tenant's API key (never another tenant's)."""
    query = select(api_keys).where(api_keys.c.tenant_id == tenant_id, api_keys.c.key_id == key_id)
    return await _one(conn, query, ApiKey, for_update=for_update)


async def list_api_keys(
    conn: AsyncConnection, tenant_id: str, now: datetime | None = None
) -> list[ApiKey]:
    """Return the tenant's API keys, oldest first; only usable ones when ``now`` is given."""
    query = select(api_keys).where(api_keys.c.tenant_id == tenant_id)
    if now is not None:
        query = query.where(_live(api_keys.c.revoked_at, api_keys.c.expires_at, now))
    return await _all(conn, query.order_by(api_keys.c.key_id), ApiKey)


async def end_api_key(
    conn: AsyncConnection, key_id: str, *, expires_at: datetime | None, revoked_at: datetime | None
) -> None:
    """Set when a key stops working (rotation) or that it stopped (revocation)."""
    query = update(api_keys).where(api_keys.c.key_id == key_id)
    await conn.execute(query.values(expires_at=expires_at, revoked_at=revoked_at))


async def live_tokens(conn: AsyncConnection, now: datetime) -> list[tuple[Webhook, WebhookToken]]:
    """Return every token that should be in the ``webhook-tokens`` bucket at ``now``."""
    hooks = (
        select(webhooks)
        .join(tenants, tenants.c.tenant_id == webhooks.c.tenant_id)
        .where(webhooks.c.revoked_at.is_(None))
        .where(tenants.c.lifecycle != Lifecycle.DELETED.value)
    )
    by_id = {hook.webhook_id: hook for hook in await _all(conn, hooks, Webhook)}
    query = select(webhook_tokens).where(
        _live(webhook_tokens.c.revoked_at, webhook_tokens.c.expires_at, now)
    )
    tokens = await _all(conn, query, WebhookToken)
    return [(by_id[t.webhook_id], t) for t in tokens if t.webhook_id in by_id]


async def live_api_keys(conn: AsyncConnection, now: datetime) -> list[ApiKey]:
    """Return every key that should be in the ``api-keys`` bucket at ``now``."""
    query = (
        select(api_keys)
        .join(tenants, tenants.c.tenant_id == api_keys.c.tenant_id)
        .where(tenants.c.lifecycle != Lifecycle.DELETED.value)
        .where(_live(api_keys.c.revoked_at, api_keys.c.expires_at, now))
    )
    return await _all(conn, query, ApiKey)


async def expired_tokens(conn: AsyncConnection, now: datetime) -> list[WebhookToken]:
    """Return rotated-away tokens whose grace period is over but that are still published."""
    query = select(webhook_tokens).where(
        webhook_tokens.c.revoked_at.is_(None), webhook_tokens.c.expires_at <= now
    )
    return await _all(conn, query, WebhookToken)


async def expired_api_keys(conn: AsyncConnection, now: datetime) -> list[ApiKey]:
    """Return rotated-away keys whose grace period is over but that are still published."""
    query = select(api_keys).where(api_keys.c.revoked_at.is_(None), api_keys.c.expires_at <= now)
    return await _all(conn, query, ApiKey)


async def delete_webhook(conn: AsyncConnection, webhook_id: str) -> None:
    """Remove a webhook and its tokens as if never created (undoing a failed creation)."""
    await conn.execute(delete(webhook_tokens).where(webhook_tokens.c.webhook_id == webhook_id))
    await conn.execute(delete(webhooks).where(webhooks.c.webhook_id == webhook_id))


async def delete_token(conn: AsyncConnection, digest: str) -> None:
    """Remove one token as if never issued (undoing a failed rotation)."""
    await conn.execute(delete(webhook_tokens).where(webhook_tokens.c.digest == digest))


async def delete_api_key(conn: AsyncConnection, key_id: str) -> None:
    """Remove one API key as if never issued (undoing a failed creation)."""
    await conn.execute(delete(api_keys).where(api_keys.c.key_id == key_id))


async def revoke_all(
    conn: AsyncConnection, tenant_id: str, now: datetime
) -> tuple[list[str], list[str]]:
    """Revoke every webhook, token and key of a tenant; return the token and key digests."""
    tokens = await conn.execute(
        update(webhook_tokens)
        .where(webhook_tokens.c.tenant_id == tenant_id, webhook_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(webhook_tokens.c.digest)
    )
    digests = list(tokens.scalars())
    await conn.execute(
        update(webhooks)
        .where(webhooks.c.tenant_id == tenant_id, webhooks.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    keys = await conn.execute(
        update(api_keys)
        .where(api_keys.c.tenant_id == tenant_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(api_keys.c.digest)
    )
    return digests, list(keys.scalars())


async def purge(conn: AsyncConnection, tenant_id: str) -> None:
    """Delete every webhook, token and key row of a tenant."""
    await conn.execute(delete(webhook_tokens).where(webhook_tokens.c.tenant_id == tenant_id))
    await conn.execute(delete(webhooks).where(webhooks.c.tenant_id == tenant_id))
    await conn.execute(delete(api_keys).where(api_keys.c.tenant_id == tenant_id))

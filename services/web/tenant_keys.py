"""The secrets the web app keeps for a user, sealed (`services.web.crypto.data_box`): the
tenant API key it acts with, and the webhook tokens it created or rotated (so a webhook's URL
can be shown again and test alerts sent). Read and written as that user only (RLS).
"""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import Request
from sqlalchemy.dialects.postgresql import insert

from services.web.errors import MissingApiKeyError
from services.web.runtime import runtime_of
from services.web.session import SignedIn, data_box
from services.web.store import Database, users, webhook_tokens_kept


def api_key_context(user_id: str) -> str:
    """The associated data a user's sealed API key is bound to."""
    return f"api_key:{user_id}"


def webhook_token_context(user_id: str, webhook_id: str) -> str:
    """The associated data a kept webhook token is bound to."""
    return f"webhook_token:{user_id}:{webhook_id}"


def _db(request: Request) -> Database:
    db: Database = runtime_of(request).db
    return db


async def tenant_api_key(request: Request, user: SignedIn) -> str:
    """Return the tenant API key (``spk_…``) the app calls the services with for ``user``."""
    async with _db(request).as_user(user.user_id) as conn:
        sealed = await conn.scalar(
            sa.select(users.c.api_key_sealed).where(users.c.user_id == user.user_id)
        )
    if sealed is None:
        raise MissingApiKeyError(user.user_id)
    return data_box(request).open(sealed, api_key_context(user.user_id))


async def kept_webhook_token(request: Request, user: SignedIn, webhook_id: str) -> str | None:
    """Return the token of ``webhook_id`` the app kept, or None (made elsewhere, forgotten)."""
    async with _db(request).as_user(user.user_id) as conn:
        sealed = await conn.scalar(
            sa.select(webhook_tokens_kept.c.token_sealed).where(
                webhook_tokens_kept.c.user_id == user.user_id,
                webhook_tokens_kept.c.webhook_id == webhook_id,
            )
        )
    if sealed is None:
        return None
    return data_box(request).open(sealed, webhook_token_context(user.user_id, webhook_id))


async def keep_webhook_token(request: Request, user: SignedIn, webhook_id: str, token: str) -> None:
    """Keep (or replace, after a rotation) the token of ``webhook_id``, sealed."""
    sealed = data_box(request).seal(token, webhook_token_context(user.user_id, webhook_id))
    row = {
        "user_id": user.user_id,
        "webhook_id": webhook_id,
        "token_sealed": sealed,
        "kept_at": runtime_of(request).clock(),
    }
    statement = insert(webhook_tokens_kept).values(row)
    statement = statement.on_conflict_do_update(
        index_elements=["user_id", "webhook_id"],
        set_={"token_sealed": sealed, "kept_at": row["kept_at"]},
    )
    async with _db(request).as_user(user.user_id) as conn:
        await conn.execute(statement)


async def forget_webhook_token(request: Request, user: SignedIn, webhook_id: str) -> None:
    """Drop the kept token of ``webhook_id`` (the webhook was revoked)."""
    async with _db(request).as_user(user.user_id) as conn:
        await conn.execute(
            webhook_tokens_kept.delete().where(
                webhook_tokens_kept.c.user_id == user.user_id,
                webhook_tokens_kept.c.webhook_id == webhook_id,
            )
        )


def totp_context(user_id: str) -> str:
    """The associated data a user's sealed TOTP secret is bound to."""
    return f"totp:{user_id}"

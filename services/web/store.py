"""The web schema: its tables, declared once (the migrations create them), and the
transactions the app opens on them, as one user (RLS) or before anyone is known."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

metadata = sa.MetaData()


def _at(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


users = sa.Table(
    "users",
    metadata,
    sa.Column("user_id", sa.String(32), primary_key=True),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("email_key", sa.String(254), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    _at("created_at", nullable=False),
    _at("verified_at"),
    sa.Column("tenant_id", sa.String(64)),
    sa.Column("api_key_sealed", sa.LargeBinary),
    sa.Column("totp_secret_sealed", sa.LargeBinary),
    sa.Column("totp_enabled", sa.Boolean, nullable=False),
    sa.Column("totp_last_step", sa.BigInteger),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("session_id", sa.String(32), primary_key=True),
    sa.Column("token_sha256", sa.String(64), nullable=False),
    sa.Column("user_id", sa.String(32), nullable=False),
    _at("created_at", nullable=False),
    _at("last_seen_at", nullable=False),
    _at("expires_at", nullable=False),
    _at("revoked_at"),
)

email_tokens = sa.Table(
    "email_tokens",
    metadata,
    sa.Column("token_sha256", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.String(32), nullable=False),
    sa.Column("purpose", sa.String(8), nullable=False),
    _at("created_at", nullable=False),
    _at("expires_at", nullable=False),
    _at("used_at"),
)

webhook_tokens_kept = sa.Table(
    "webhook_tokens_kept",
    metadata,
    sa.Column("user_id", sa.String(32), primary_key=True),
    sa.Column("webhook_id", sa.String(64), primary_key=True),
    sa.Column("token_sealed", sa.LargeBinary, nullable=False),
    _at("kept_at", nullable=False),
)

login_attempts = sa.Table(
    "login_attempts",
    metadata,
    sa.Column("attempt_id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("key_sha256", sa.String(64), nullable=False),
    _at("at", nullable=False),
)


_AS_USER = sa.text("SELECT set_config('sparky.web_user_id', :user_id, true)")


class Database:
    """The web schema's engine, with the transactions the store needs."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @asynccontextmanager
    async def as_user(self, user_id: str) -> AsyncIterator[AsyncConnection]:
        """Yield a transaction that sees and changes ``user_id``'s rows only."""
        async with self.engine.begin() as conn:
            await conn.execute(_AS_USER, {"user_id": user_id})
            yield conn

    @asynccontextmanager
    async def anonymous(self) -> AsyncIterator[AsyncConnection]:
        """Yield a transaction that sees no user's rows (lookups, sign-in attempts)."""
        async with self.engine.begin() as conn:
            yield conn

    async def user_by(self, function: str, value: str) -> str | None:
        """Return the user id a ``SECURITY DEFINER`` lookup finds for ``value``, if any."""
        if function not in {"web_user_by_email", "web_user_by_session", "web_user_by_email_token"}:
            raise ValueError(f"no lookup {function}")
        async with self.engine.connect() as conn:
            found = await conn.scalar(sa.text(f"SELECT {function}(:v)"), {"v": value})
        return None if found is None else str(found)

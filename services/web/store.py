"""The web app's tables, declared once (the migrations create them)."""

from __future__ import annotations

import sqlalchemy as sa

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

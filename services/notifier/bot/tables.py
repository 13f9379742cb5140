"""The bot's tables (migration 0002), declared once."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

telegram_updates = sa.Table(
    "telegram_updates",
    metadata,
    sa.Column("update_id", sa.BigInteger, primary_key=True),
    sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
)

signal_sources = sa.Table(
    "signal_sources",
    metadata,
    sa.Column("source_id", sa.Text, primary_key=True),
    sa.Column("tenant_id", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("webhook_masked", sa.Text, nullable=False),
    sa.Column("token_sealed", sa.LargeBinary, nullable=False),
    sa.Column("claim_digest", sa.Text),
    sa.Column("claim_expires_at", sa.DateTime(timezone=True)),
    sa.Column("chat_id", sa.BigInteger),
    sa.Column("chat_title", sa.Text),
    sa.Column("edit_notice_sent", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("claimed_at", sa.DateTime(timezone=True)),
)

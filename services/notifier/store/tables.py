"""The notifier's tables, declared once (the migrations create them): channels, deliveries,
tenant keys and link codes (0001), and the bot's handled updates and signal sources (0002)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

metadata = sa.MetaData()


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


channels = sa.Table(
    "channels",
    metadata,
    sa.Column("channel_id", sa.Text, primary_key=True),
    sa.Column("tenant_id", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("dead_reason", sa.Text),
    sa.Column("target_sealed", sa.LargeBinary, nullable=False),
    sa.Column("target_masked", sa.Text, nullable=False),
    sa.Column("target_key", sa.Text, nullable=False),
    sa.Column("secret_sealed", sa.LargeBinary),
    sa.Column("chat_id", sa.BigInteger),
    sa.Column("events", ARRAY(sa.Text), nullable=False),
    sa.Column("quiet", sa.Boolean, nullable=False),
    sa.Column("daily_summary", sa.Boolean, nullable=False),
    sa.Column("verify_code_digest", sa.Text),
    sa.Column("verify_tries", sa.Integer, nullable=False),
    _time("verify_expires_at", nullable=True),
    _time("next_send_at"),
    _time("lease_until", nullable=True),
    sa.Column("failures", sa.Integer, nullable=False),
    _time("created_at"),
    _time("updated_at"),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("delivery_id", sa.Text, primary_key=True),
    sa.Column("tenant_id", sa.Text, nullable=False),
    sa.Column("channel_id", sa.Text, nullable=False),
    sa.Column("event_id", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("notice", JSONB, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("send_id", sa.Text),
    sa.Column("priority", sa.SmallInteger, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    _time("occurred_at"),
    _time("created_at"),
    _time("sent_at", nullable=True),
    sa.Column("last_error", sa.Text),
)

tenant_keys = sa.Table(
    "tenant_keys",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("key_id", sa.Text, nullable=False),
    sa.Column("key_sealed", sa.LargeBinary, nullable=False),
    _time("created_at"),
)

link_codes = sa.Table(
    "link_codes",
    metadata,
    sa.Column("code_digest", sa.Text, primary_key=True),
    sa.Column("tenant_id", sa.Text, nullable=False),
    _time("created_at"),
    _time("expires_at"),
    _time("used_at", nullable=True),
    sa.Column("chat_id", sa.BigInteger),
)

# The bot's (migration 0002).

telegram_updates = sa.Table(
    "telegram_updates",
    metadata,
    sa.Column("update_id", sa.BigInteger, primary_key=True),
    _time("handled_at"),
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
    _time("claim_expires_at", nullable=True),
    sa.Column("chat_id", sa.BigInteger),
    sa.Column("chat_title", sa.Text),
    sa.Column("edit_notice_sent", sa.Boolean, nullable=False),
    _time("created_at"),
    _time("claimed_at", nullable=True),
)

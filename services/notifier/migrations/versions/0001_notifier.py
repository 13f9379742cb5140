"""Channels, deliveries, the tenant keys the notifier holds, Telegram link codes; RLS.

Every table carries ``tenant_id`` and forces RLS:

- ``tenant_isolation`` (every role): only rows of the tenant set with
  ``set_config('sparky.tenant_id', …, true)`` in the transaction (the tenant API's role);
- ``writer_all`` (the writer only): every row, for the consumer, the sender and the bot.

``deliveries`` holds one row per (event, channel): the unique pair is what makes a delivery
exactly-once. Secrets are stored sealed (AES-GCM, ``SPARKY_NOTIFIER_DATA_KEY``).
"""

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from libs.common.db import check_schema
from libs.common.migrations import ensure_role_sql

revision = "0001"
down_revision = None

API_DEFAULT = "sparky_notifier_api"
WRITER_DEFAULT = "sparky_notifier_writer"
TABLES = ("channels", "deliveries", "tenant_keys", "link_codes")
API_GRANTS = {
    "channels": "SELECT, INSERT, UPDATE, DELETE",
    "deliveries": "SELECT, INSERT",
    "tenant_keys": "SELECT, INSERT, UPDATE, DELETE",
    "link_codes": "SELECT, INSERT",
}


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.Text, nullable=nullable)


def _channels() -> None:
    op.create_table(
        "channels",
        _text("channel_id"),
        _text("tenant_id"),
        _text("kind"),
        _text("status"),
        _text("dead_reason", nullable=True),
        sa.Column("target_sealed", sa.LargeBinary, nullable=False),
        _text("target_masked"),
        _text("target_key"),  # SHA-256 of the normalised target: one channel per target
        sa.Column("secret_sealed", sa.LargeBinary, nullable=True),
        sa.Column("chat_id", sa.BigInteger, nullable=True),  # Telegram
        sa.Column("events", ARRAY(sa.Text), nullable=False),
        sa.Column("quiet", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("daily_summary", sa.Boolean, nullable=False, server_default=sa.false()),
        _text("verify_code_digest", nullable=True),
        sa.Column("verify_tries", sa.Integer, nullable=False, server_default="0"),
        _time("verify_expires_at", nullable=True),
        _time("next_send_at"),  # the channel's rate-limit and backoff gate
        _time("lease_until", nullable=True),  # a sender is sending to it until then
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        _time("created_at"),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("channel_id"),
        sa.UniqueConstraint("tenant_id", "kind", "target_key", name="channels_one_per_target"),
        sa.CheckConstraint(
            "kind IN ('telegram', 'discord', 'email', 'webhook')", name="channels_kind"
        ),
        sa.CheckConstraint(
            "status IN ('pending_verification', 'active', 'dead')", name="channels_status"
        ),
    )
    op.create_index("channels_by_tenant", "channels", ["tenant_id", "status"])
    op.create_index("channels_by_chat", "channels", ["chat_id"])


def _deliveries() -> None:
    op.create_table(
        "deliveries",
        _text("delivery_id"),
        _text("tenant_id"),
        sa.Column(
            "channel_id",
            sa.Text,
            sa.ForeignKey("channels.channel_id", ondelete="CASCADE"),
            nullable=False,
        ),
        _text("event_id"),
        _text("kind"),
        sa.Column("notice", JSONB, nullable=False),
        _text("state"),
        _text("send_id", nullable=True),  # the message it went (or goes) out in
        sa.Column("priority", sa.SmallInteger, nullable=False, server_default="1"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        _time("occurred_at"),
        _time("created_at"),
        _time("sent_at", nullable=True),
        _text("last_error", nullable=True),
        sa.PrimaryKeyConstraint("delivery_id"),
        sa.UniqueConstraint("event_id", "channel_id", name="deliveries_once"),
        sa.CheckConstraint(
            "state IN ('pending', 'sending', 'sent', 'dead', 'dropped')", name="deliveries_state"
        ),
    )
    op.execute(
        "CREATE INDEX deliveries_waiting ON deliveries (channel_id, priority, created_at) "
        "WHERE state IN ('pending', 'sending')"
    )
    op.create_index("deliveries_by_tenant", "deliveries", ["tenant_id", "created_at"])


def _others() -> None:
    op.create_table(
        "tenant_keys",
        _text("tenant_id"),
        _text("key_id"),
        sa.Column("key_sealed", sa.LargeBinary, nullable=False),
        _time("created_at"),
        sa.PrimaryKeyConstraint("tenant_id"),
    )
    op.create_table(
        "link_codes",
        _text("code_digest"),
        _text("tenant_id"),
        _time("created_at"),
        _time("expires_at"),
        _time("used_at", nullable=True),
        sa.Column("chat_id", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("code_digest"),
    )


def _secure(api: str, writer: str) -> None:
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            "USING (tenant_id = current_setting('sparky.tenant_id', true)) "
            "WITH CHECK (tenant_id = current_setting('sparky.tenant_id', true))"
        )
        op.execute(
            f'CREATE POLICY writer_all ON {table} TO "{writer}" USING (true) WITH CHECK (true)'
        )
        op.execute(f'GRANT {API_GRANTS[table]} ON {table} TO "{api}"')
        op.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO "{writer}"')


def upgrade() -> None:
    attributes = context.config.attributes
    api = check_schema(str(attributes.get("api_role", API_DEFAULT)))
    writer = check_schema(str(attributes.get("writer_role", WRITER_DEFAULT)))
    _channels()
    _deliveries()
    _others()
    op.execute(ensure_role_sql(api))
    op.execute(ensure_role_sql(writer))
    _secure(api, writer)


def downgrade() -> None:
    for table in ("link_codes", "tenant_keys", "deliveries", "channels"):
        op.drop_table(table)

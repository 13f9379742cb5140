"""The Telegram bot's tables: handled updates, signal sources; RLS like the others.

- ``telegram_updates``: every update id the bot handled, so a restart (or Telegram offering
  an update again) never handles one twice. Not a tenant's row: the writer only.
- ``signal_sources``: a tenant's mapping of a Telegram channel or group to one of its
  webhooks (the webhook token sealed), claimed in the chat with a one-time code.
"""

import sqlalchemy as sa
from alembic import context, op

from libs.common.db import check_schema

revision = "0002"
down_revision = "0001"

API_DEFAULT = "sparky_notifier_api"
WRITER_DEFAULT = "sparky_notifier_writer"


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _tables() -> None:
    op.create_table(
        "telegram_updates",
        sa.Column("update_id", sa.BigInteger, primary_key=True),
        _time("handled_at"),
    )
    op.create_index("telegram_updates_by_time", "telegram_updates", ["handled_at"])
    op.create_table(
        "signal_sources",
        sa.Column("source_id", sa.Text, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("webhook_masked", sa.Text, nullable=False),
        sa.Column("token_sealed", sa.LargeBinary, nullable=False),
        sa.Column("claim_digest", sa.Text, nullable=True),
        _time("claim_expires_at", nullable=True),
        sa.Column("chat_id", sa.BigInteger, nullable=True),
        sa.Column("chat_title", sa.Text, nullable=True),
        sa.Column("edit_notice_sent", sa.Boolean, nullable=False, server_default=sa.false()),
        _time("created_at"),
        _time("claimed_at", nullable=True),
        sa.CheckConstraint("status IN ('pending', 'active')", name="signal_sources_status"),
        sa.UniqueConstraint("tenant_id", "chat_id", name="signal_sources_one_per_chat"),
    )
    op.create_index("signal_sources_by_chat", "signal_sources", ["chat_id"])
    op.create_index("signal_sources_by_claim", "signal_sources", ["claim_digest"], unique=True)


def _secure(api: str, writer: str) -> None:
    for table in ("telegram_updates", "signal_sources"):
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f'CREATE POLICY writer_all ON {table} TO "{writer}" USING (true) WITH CHECK (true)'
        )
        op.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO "{writer}"')
    op.execute(
        "CREATE POLICY tenant_isolation ON signal_sources "
        "USING (tenant_id = current_setting('sparky.tenant_id', true)) "
        "WITH CHECK (tenant_id = current_setting('sparky.tenant_id', true))"
    )
    op.execute(f'GRANT SELECT, INSERT, DELETE ON signal_sources TO "{api}"')


def upgrade() -> None:
    attributes = context.config.attributes
    api = check_schema(str(attributes.get("api_role", API_DEFAULT)))
    writer = check_schema(str(attributes.get("writer_role", WRITER_DEFAULT)))
    _tables()
    _secure(api, writer)


def downgrade() -> None:
    op.drop_table("signal_sources")
    op.drop_table("telegram_updates")

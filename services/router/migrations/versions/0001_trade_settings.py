"""Trade-settings layers and their history, readable only for the tenant set on the session.

Row-level security: every statement runs after ``set_config('sparky.tenant_id', …, true)``,
and the policies (forced, so they bind the tables' owner too) show only that tenant's rows to
a role without BYPASSRLS.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None

_TABLES = ("trade_settings", "trade_settings_history")
_POLICY = "tenant_id = current_setting('sparky.tenant_id', true)"


def upgrade() -> None:
    op.create_table(
        "trade_settings",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("account_label", sa.String(64), primary_key=True),
        sa.Column("symbol", sa.String(64), primary_key=True),
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("settings", JSONB, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "trade_settings_history",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("account_label", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.Column("old", JSONB, nullable=True),
        sa.Column("new", JSONB, nullable=True),
    )
    op.create_index(
        "trade_settings_history_by_tenant",
        "trade_settings_history",
        ["tenant_id", "changed_at", "id"],
    )
    for table in _TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_tenant ON {table} USING ({_POLICY}) WITH CHECK ({_POLICY})"
        )


def downgrade() -> None:
    op.drop_table("trade_settings_history")
    op.drop_table("trade_settings")

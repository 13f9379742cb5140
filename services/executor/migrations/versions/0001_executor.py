"""The executor's tables: exchange accounts (metadata only) and order submissions.

API keys are never stored here: they live in Vault. ``orders.client_order_id`` is unique, so
an order is recorded once, before the exchange is called.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0001"
down_revision = None


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.Text, nullable=nullable)


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "accounts",
        _text("tenant_id"),
        _text("label"),
        _text("exchange_id"),
        _text("mode"),
        _text("market_type"),
        _text("status"),
        _text("status_message", nullable=True),
        _time("validated_at", nullable=True),
        _time("keys_updated_at"),
        _time("created_at"),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("tenant_id", "label"),
    )
    op.create_table(
        "orders",
        _text("client_order_id"),
        _text("tenant_id"),
        sa.Column("partition", sa.Integer, nullable=False),
        _text("intent_id"),
        _text("place_order_id"),
        _text("account_label"),
        _text("exchange_id"),
        _text("mode"),
        _text("symbol"),
        _text("side"),
        _text("order_type"),
        _text("state"),
        sa.Column("amount", sa.Numeric, nullable=True),
        sa.Column("price", sa.Numeric, nullable=True),
        _text("exchange_order_id", nullable=True),
        sa.Column("filled", sa.Numeric, nullable=False, server_default="0"),
        sa.Column("reported_trades", ARRAY(sa.Text), nullable=False, server_default="{}"),
        _time("sent_at", nullable=True),
        _text("reason", nullable=True),
        _text("reason_code", nullable=True),
        sa.Column("failure_reported", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
        _time("received_at"),
        _time("created_at"),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("client_order_id"),
    )
    op.create_index("orders_by_tenant", "orders", ["tenant_id", "created_at"])
    # The tracker's work list: open orders, and unresolved ones whose handler gave up.
    op.create_index(
        "orders_to_track",
        "orders",
        ["partition", "updated_at"],
        postgresql_where=sa.text(
            "state IN ('submitted', 'partially_filled') "
            "OR (state IN ('pending', 'unknown') AND failure_reported)"
        ),
    )


def downgrade() -> None:
    op.drop_table("orders")
    op.drop_table("accounts")

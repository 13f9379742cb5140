"""Tenants, plans (seeded), webhooks and their tokens, API keys, Stripe events, usage."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None

# The architecture's defaults; None is unlimited. Operators change rows, not code.
PLANS = [
    ("free", False, 1, 3, 10, 20),
    ("basic", True, 2, 10, 100, 500),
    ("pro", True, 10, None, 1000, 10000),
    ("enterprise", True, None, None, None, None),
]


def _at(name: str, *, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _plans() -> None:
    plans = op.create_table(
        "plans",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("live_trading", sa.Boolean, nullable=False),
        sa.Column("max_exchange_accounts", sa.Integer),
        sa.Column("max_webhooks", sa.Integer),
        sa.Column("max_alerts_per_hour", sa.Integer),
        sa.Column("max_orders_per_day", sa.Integer),
    )
    columns = [c.name for c in plans.columns]
    op.bulk_insert(plans, [dict(zip(columns, row, strict=True)) for row in PLANS])


def _tenants() -> None:
    op.create_table(
        "tenants",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("lifecycle", sa.String(16), nullable=False),
        sa.Column("plan", sa.String(32), sa.ForeignKey("plans.name"), nullable=False),
        sa.Column("limit_overrides", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("payment_state", sa.String(16), nullable=False, server_default="ok"),
        _at("grace_ends_at"),
        sa.Column("stripe_customer_id", sa.String(255), unique=True),
        sa.Column("stripe_subscription_id", sa.String(255)),
        sa.Column("subscription_status", sa.String(32)),
        _at("stripe_event_at"),
        _at("created_at", nullable=False),
        _at("updated_at", nullable=False),
        _at("deleted_at"),
    )
    op.create_index(
        "tenants_in_grace",
        "tenants",
        ["grace_ends_at"],
        postgresql_where=sa.text("payment_state = 'grace'"),
    )


def _credentials() -> None:
    op.create_table(
        "webhooks",
        sa.Column("webhook_id", sa.String(26), primary_key=True),
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.tenant_id"), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("allowed_ips", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("passphrase_sha256", sa.String(64)),
        _at("created_at", nullable=False),
        _at("revoked_at"),
    )
    op.create_index(
        "webhooks_live_label",
        "webhooks",
        ["tenant_id", "label"],
        unique=True,
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    op.create_table(
        "webhook_tokens",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column(
            "webhook_id", sa.String(26), sa.ForeignKey("webhooks.webhook_id"), nullable=False
        ),
        sa.Column("tenant_id", sa.String(64), nullable=False, index=True),
        sa.Column("prefix", sa.String(8), nullable=False),
        _at("created_at", nullable=False),
        _at("expires_at"),
        _at("revoked_at"),
    )
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(26), primary_key=True),
        sa.Column(
            "tenant_id",
            sa.String(64),
            sa.ForeignKey("tenants.tenant_id"),
            nullable=False,
            index=True,
        ),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(8), nullable=False),
        _at("created_at", nullable=False),
        _at("expires_at"),
        _at("revoked_at"),
    )


def _stripe_and_usage() -> None:
    op.create_table(
        "stripe_events",
        sa.Column("event_id", sa.String(255), primary_key=True),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("tenant_id", sa.String(64), index=True),
        _at("created_at", nullable=False),
        _at("received_at", nullable=False),
        sa.Column("outcome", sa.String(500), nullable=False),
    )
    op.create_table(
        "usage_counters",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("period", sa.String(8), primary_key=True),
        sa.Column("period_start", sa.Date, primary_key=True),
        sa.Column("metric", sa.String(64), primary_key=True),
        sa.Column("count", sa.BigInteger, nullable=False),
    )
    op.create_index("usage_counters_by_period", "usage_counters", ["period", "period_start"])
    op.create_table(
        "usage_processed",
        sa.Column("message_id", sa.String(26), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False, index=True),
        _at("processed_at", nullable=False),
    )
    op.create_table(
        "usage_filled_orders",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("client_order_id", sa.String(36), primary_key=True),
    )


def upgrade() -> None:
    _plans()
    _tenants()
    _credentials()
    _stripe_and_usage()


def downgrade() -> None:
    for table in (
        "usage_filled_orders",
        "usage_processed",
        "usage_counters",
        "stripe_events",
        "api_keys",
        "webhook_tokens",
        "webhooks",
        "tenants",
        "plans",
    ):
        op.drop_table(table)

"""Billing's tables, declared without a schema: the engine's search_path picks it.

Secrets are stored only as SHA-256 digests, plus the first 8 characters for listings;
webhook passphrases (chosen by people, so guessable) as salted scrypt hashes.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()


def _at(name: str, *, nullable: bool = True) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


plans = Table(
    "plans",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("live_trading", Boolean, nullable=False),
    Column("max_exchange_accounts", Integer),
    Column("max_webhooks", Integer),
    Column("max_alerts_per_hour", Integer),
    Column("max_orders_per_day", Integer),
    Column("max_leverage", Integer),  # migration 0002; None: the venue's own cap
)

tenants = Table(
    "tenants",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("lifecycle", String(16), nullable=False),
    Column("plan", String(32), ForeignKey("plans.name"), nullable=False),
    Column("limit_overrides", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("payment_state", String(16), nullable=False, server_default="ok"),
    _at("grace_ends_at"),
    Column("stripe_customer_id", String(255), unique=True),
    Column("stripe_subscription_id", String(255)),
    Column("subscription_status", String(32)),
    _at("stripe_event_at"),
    _at("created_at", nullable=False),
    _at("updated_at", nullable=False),
    _at("deleted_at"),
    _at("deletion_announced_at"),  # migration 0003: NULL while tenant.deleted is owed
    Column("signup_ref", String(64), unique=True),  # migration 0007: the web app's sign-up
    # migration 0008: the grace_ends_at whose billing.payment_failed / grace_ending was stored
    _at("payment_failed_notice_for"),
    _at("grace_ending_notice_for"),
    Index("tenants_in_grace", "grace_ends_at", postgresql_where=text("payment_state = 'grace'")),
    Index(
        "tenants_deletion_owed",
        "tenant_id",
        postgresql_where=text("lifecycle = 'deleted' AND deletion_announced_at IS NULL"),
    ),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("webhook_id", String(26), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.tenant_id"), nullable=False),
    Column("label", String(64), nullable=False),
    Column("allowed_ips", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("passphrase_hash", String(200)),  # migration 0003: was passphrase_sha256
    _at("created_at", nullable=False),
    _at("revoked_at"),
    Index(
        "webhooks_live_label",
        "tenant_id",
        "label",
        unique=True,
        postgresql_where=text("revoked_at IS NULL"),
    ),
)

webhook_tokens = Table(
    "webhook_tokens",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("webhook_id", String(26), ForeignKey("webhooks.webhook_id"), nullable=False),
    Column("tenant_id", String(64), nullable=False, index=True),
    Column("prefix", String(8), nullable=False),
    _at("created_at", nullable=False),
    _at("expires_at"),
    _at("revoked_at"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(26), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.tenant_id"), nullable=False, index=True),
    Column("label", String(64), nullable=False),
    Column("digest", String(64), nullable=False, unique=True),
    Column("prefix", String(8), nullable=False),
    _at("created_at", nullable=False),
    _at("expires_at"),
    _at("revoked_at"),
)

stripe_events = Table(
    "stripe_events",
    metadata,
    Column("event_id", String(255), primary_key=True),
    Column("type", String(64), nullable=False),
    Column("tenant_id", String(64), index=True),
    _at("created_at", nullable=False),
    _at("received_at", nullable=False),
    Column("outcome", String(500), nullable=False),
)

usage_counters = Table(
    "usage_counters",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("period", String(8), primary_key=True),
    Column("period_start", Date, primary_key=True),
    Column("metric", String(64), primary_key=True),
    Column("count", BigInteger, nullable=False),
    Index("usage_counters_by_period", "period", "period_start"),
)

usage_processed = Table(
    "usage_processed",
    metadata,
    Column("message_id", String(26), primary_key=True),
    Column("tenant_id", String(64), nullable=False, index=True),
    _at("processed_at", nullable=False),
)

usage_filled_orders = Table(
    "usage_filled_orders",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("client_order_id", String(36), primary_key=True),
)

operators = Table(  # migration 0004; the bootstrap operator's token is the configured one
    "operators",
    metadata,
    Column("operator_id", String(26), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("digest", String(64), unique=True),  # SHA-256 of the token; NULL for bootstrap
    Column("prefix", String(8)),
    Column("created_by", String(64)),
    _at("created_at", nullable=False),
    Column("revoked_by", String(64)),
    _at("revoked_at"),
    Index("operators_live_name", "name", unique=True, postgresql_where=text("revoked_at IS NULL")),
)

operator_audit = Table(  # append-only: a trigger refuses UPDATE, DELETE and TRUNCATE
    "operator_audit",
    metadata,
    Column("audit_id", BigInteger, Identity(always=True), primary_key=True),
    _at("at", nullable=False),
    Column("operator_id", String(26), nullable=False),
    Column("operator", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("method", String(8), nullable=False),
    Column("tenant_id", String(64)),
    Column("target", String(64)),
    Column("request_id", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("outcome", String(16), nullable=False),
    Index("operator_audit_by_operator", "operator", "audit_id"),
    Index("operator_audit_by_tenant", "tenant_id", "audit_id"),
    Index("operator_audit_by_time", "at"),
)

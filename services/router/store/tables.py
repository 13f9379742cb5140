"""The router's tables: trade-settings layers, every change made to them, and the kill switch
notices owed.

Declared without a schema: the engine's ``search_path`` puts the router's schema first
(``router`` in production, a test's own schema in tests). The migrations (`MIGRATIONS`) keep
their own DDL as applied; ``tests/integration/router/test_schema.py`` holds the schema they
arrive at to this declaration.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)
from sqlalchemy.dialects.postgresql import JSONB

MIGRATIONS = Path(__file__).parents[1] / "migrations"
metadata = MetaData()

# One row per layer: account_label "" is the tenant-wide layer, symbol "" an account's layer.
trade_settings = Table(
    "trade_settings",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("account_label", String(64), primary_key=True),
    Column("symbol", String(64), primary_key=True),
    Column("scope", String(8), nullable=False),
    Column("settings", JSONB, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(64), nullable=False),
)

# Append-only: what each layer became, when and by whom (old is NULL on creation, new on
# deletion). The settings in force at any time are the latest rows before it.
trade_settings_history = Table(
    "trade_settings_history",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("scope", String(8), nullable=False),
    Column("account_label", String(64), nullable=False),
    Column("symbol", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("changed_by", String(64), nullable=False),
    Column("old", JSONB, nullable=True),
    Column("new", JSONB, nullable=True),
    Index("trade_settings_history_by_tenant", "tenant_id", "changed_at", "id"),
)

# ``settings.kill_switch`` events owed (migration 0003): inserted with the change that moved a
# kill switch, deleted once JetStream stored the event. Not under row-level security.
kill_switch_outbox = Table(
    "kill_switch_outbox",
    metadata,
    Column("change_id", BigInteger, primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("event", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

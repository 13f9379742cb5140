"""The ledger's projections, under Row-Level Security, and the roles that read and write them.

Every tenant-facing table carries ``tenant_id`` and forces RLS, so even the table owner sees
nothing unless a policy lets it:

- ``tenant_isolation`` (every role): only rows of the tenant set with
  ``set_config('sparky.tenant_id', …, true)`` in the current transaction;
- ``projector_writes`` (the writer role only): every row, for the projector.

Roles are cluster-wide: their names carry the deployment's prefix (attributes from the
settings, `libs.common.db_roles`). They are created only when missing, NOLOGIN and without
BYPASSRLS (normally beforehand, by `libs.common.db_logins`, which also makes the runtime
login a member so the service can switch to them).
"""

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects.postgresql import JSONB

from libs.common.db import check_schema
from libs.common.migrations import ensure_role_sql

revision = "0001"
down_revision = None

READER_DEFAULT = "sparky_ledger_reader"
WRITER_DEFAULT = "sparky_ledger_writer"
TENANT_TABLES = ("intents", "orders", "order_events", "trades", "positions", "daily_pnl")
INTERNAL_TABLES = ("processed_events", "poison_events", "projector_state")
# Rows updated by every batch keep room on their page, so an update stays on it (HOT).
UPDATED_IN_PLACE = {"fillfactor": "70"}


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.Text, nullable=nullable)


def _num(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.Numeric, nullable=nullable)


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _create_tenant_tables() -> None:
    op.create_table(
        "intents",
        _text("tenant_id"),
        _text("intent_id"),
        _text("status"),
        _text("webhook_id", nullable=True),
        _text("action", nullable=True),
        _text("symbol", nullable=True),
        _time("received_at", nullable=True),
        _time("accepted_at", nullable=True),
        _text("reject_reason", nullable=True),
        _text("reject_message", nullable=True),
        _time("rejected_at", nullable=True),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("tenant_id", "intent_id"),
    )
    op.create_table(
        "orders",
        _text("tenant_id"),
        _text("client_order_id"),
        _text("intent_id"),
        _text("account_label"),
        _text("exchange_id"),
        _text("symbol"),
        _text("side"),
        _text("status"),
        _text("exchange_order_id", nullable=True),
        _text("order_type", nullable=True),
        _num("amount", nullable=True),
        _num("price", nullable=True),
        _num("filled_amount"),
        _num("filled_notional"),
        _text("reason", nullable=True),
        _text("reason_code", nullable=True),
        _time("created_at"),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("tenant_id", "client_order_id"),
        postgresql_with=UPDATED_IN_PLACE,
    )
    op.create_index("orders_by_intent", "orders", ["tenant_id", "intent_id"])
    op.create_table(
        "order_events",
        _text("message_id", nullable=False),
        _text("tenant_id"),
        _text("intent_id"),
        _text("client_order_id"),
        _text("kind"),
        _text("status"),
        _time("occurred_at"),
        sa.Column("stream_seq", sa.BigInteger, nullable=False),
        sa.Column("detail", JSONB, nullable=False),
        sa.PrimaryKeyConstraint("message_id"),
    )
    op.create_index("order_events_by_intent", "order_events", ["tenant_id", "intent_id"])
    _create_trades()
    op.create_table(
        "positions",
        _text("tenant_id"),
        _text("account_label"),
        _text("symbol"),
        _text("exchange_id"),
        _text("base"),
        _text("quote", nullable=True),
        _num("quantity"),
        _num("average_price"),
        _num("realized_pnl"),
        sa.Column("fees", JSONB, nullable=False),
        sa.Column("fills", sa.Integer, nullable=False),
        _time("opened_at", nullable=True),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("tenant_id", "account_label", "symbol"),
        postgresql_with=UPDATED_IN_PLACE,
    )
    op.create_table(
        "daily_pnl",
        _text("tenant_id"),
        _text("account_label"),
        sa.Column("day", sa.Date, nullable=False),
        _text("currency"),
        _num("realized_pnl"),
        _num("fees"),
        _num("volume"),
        sa.Column("fills", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "account_label", "day", "currency"),
        postgresql_with=UPDATED_IN_PLACE,
    )


def _create_trades() -> None:
    op.create_table(
        "trades",
        # Byte order for the id that breaks ties of the page cursor: same in every locale.
        sa.Column("id", sa.Text(collation="C"), nullable=False),
        _text("tenant_id"),
        _text("account_label"),
        _text("exchange_id"),
        _text("symbol"),
        _text("side"),
        _num("price"),
        _num("amount"),
        _num("fee"),
        _text("fee_currency", nullable=True),
        _text("trade_id"),
        _text("client_order_id"),
        _text("exchange_order_id"),
        _text("intent_id"),
        _time("filled_at"),
        _text("message_id"),
        # Recorded once per exchange trade id and account; exchanges number trades per market
        # (Binance), so the symbol is part of the identity. ``id`` (event + fill index) is
        # unique by construction and only breaks ties of the page cursor.
        sa.PrimaryKeyConstraint(
            "tenant_id", "account_label", "exchange_id", "symbol", "trade_id", name="trades_once"
        ),
    )
    op.create_index("trades_by_time", "trades", ["tenant_id", "filled_at", "id"])
    # A trader's most common filter; without it a rare symbol scans the whole history.
    op.create_index("trades_by_symbol", "trades", ["tenant_id", "symbol", "filled_at", "id"])
    op.create_index("trades_by_order", "trades", ["tenant_id", "client_order_id"])


def _create_internal_tables() -> None:
    op.create_table(
        "processed_events",
        _text("message_id"),
        sa.Column("stream_seq", sa.BigInteger, nullable=False),
        _text("tenant_id"),
        _text("kind"),
        sa.PrimaryKeyConstraint("message_id"),
    )
    op.create_table(
        "poison_events",
        sa.Column("stream_seq", sa.BigInteger, primary_key=True, autoincrement=False),
        _text("subject"),
        _text("error"),
        _text("payload"),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_table(
        "projector_state",
        _text("stream", nullable=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        _time("last_occurred_at", nullable=True),
        sa.PrimaryKeyConstraint("stream"),
    )


def _ensure_role(role: str) -> None:
    op.execute(ensure_role_sql(role))


def _secure(reader: str, writer: str) -> None:
    for table in TENANT_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            "USING (tenant_id = current_setting('sparky.tenant_id', true))"
        )
        op.execute(
            f'CREATE POLICY projector_writes ON {table} TO "{writer}" '
            "USING (true) WITH CHECK (true)"
        )
        op.execute(f'GRANT SELECT ON {table} TO "{reader}"')
    for table in TENANT_TABLES + INTERNAL_TABLES:
        op.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO "{writer}"')


def upgrade() -> None:
    attributes = context.config.attributes
    # Role names are interpolated in DDL: the same identifier rule as schema names.
    reader = check_schema(str(attributes.get("reader_role", READER_DEFAULT)))
    writer = check_schema(str(attributes.get("writer_role", WRITER_DEFAULT)))
    _create_tenant_tables()
    _create_internal_tables()
    _ensure_role(reader)
    _ensure_role(writer)
    _secure(reader, writer)


def downgrade() -> None:
    for table in TENANT_TABLES + INTERNAL_TABLES:
        op.drop_table(table)

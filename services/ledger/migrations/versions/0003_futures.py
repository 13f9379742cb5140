"""Futures: protective orders, marks (unrealized PnL), funding payments.

- ``orders`` learns why an order exists (``role``: the alert's order, or a take-profit /
  stop-loss protecting ``parent_client_order_id``) and what a conditional order carries
  (``trigger_price``, ``reduce_only``, ``leverage``);
- ``marks``: the venue's latest view of each position (mark price, its unrealized PnL and
  liquidation price), one row per position, the newest by ``marked_at``;
- ``funding``: one row per funding payment, recorded once per venue funding id and account;
- ``daily_pnl.funding``: what funding paid (negative) or earned that day.

The new tables are tenant tables like the others: forced RLS, the same two policies, SELECT
for the reader and writes for the writer.
"""

import sqlalchemy as sa
from alembic import context, op

from libs.common.db import check_schema

revision = "0003"
down_revision = "0002"

READER_DEFAULT = "sparky_ledger_reader"
WRITER_DEFAULT = "sparky_ledger_writer"
NEW_TABLES = ("marks", "funding")


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.Text, nullable=nullable)


def _num(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.Numeric, nullable=nullable)


def _time(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _orders() -> None:
    op.add_column("orders", sa.Column("role", sa.Text, nullable=False, server_default="order"))
    op.add_column("orders", _text("parent_client_order_id", nullable=True))
    op.add_column("orders", _num("trigger_price", nullable=True))
    op.add_column(
        "orders", sa.Column("reduce_only", sa.Boolean, nullable=False, server_default="false")
    )
    op.add_column("orders", _num("leverage", nullable=True))
    op.add_column("daily_pnl", sa.Column("funding", sa.Numeric, nullable=False, server_default="0"))
    # An order's history by its client order id: a cancel through the API is another intent.
    op.create_index("order_events_by_order", "order_events", ["tenant_id", "client_order_id"])


def _marks() -> None:
    op.create_table(
        "marks",
        _text("tenant_id"),
        _text("account_label"),
        _text("symbol"),
        _text("exchange_id"),
        _num("quantity"),
        _num("entry_price", nullable=True),
        _num("mark_price"),
        _num("unrealized_pnl"),
        _num("liquidation_price", nullable=True),
        _time("marked_at"),
        _text("message_id"),
        sa.PrimaryKeyConstraint("tenant_id", "account_label", "symbol"),
        postgresql_with={"fillfactor": "70"},
    )


def _funding() -> None:
    op.create_table(
        "funding",
        sa.Column("id", sa.Text(collation="C"), nullable=False),
        _text("tenant_id"),
        _text("account_label"),
        _text("exchange_id"),
        _text("symbol"),
        _num("amount"),
        _text("currency"),
        _text("funding_id"),
        _time("paid_at"),
        # The venue's funding id is unique per account: a payment reported twice (a poll
        # repeated after a restart) is recorded once.
        sa.PrimaryKeyConstraint("tenant_id", "account_label", "funding_id", name="funding_once"),
    )
    op.create_index("funding_by_time", "funding", ["tenant_id", "paid_at", "id"])


def _secure(reader: str, writer: str) -> None:
    for table in NEW_TABLES:
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
        op.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO "{writer}"')


def upgrade() -> None:
    attributes = context.config.attributes
    reader = check_schema(str(attributes.get("reader_role", READER_DEFAULT)))
    writer = check_schema(str(attributes.get("writer_role", WRITER_DEFAULT)))
    _orders()
    _marks()
    _funding()
    _secure(reader, writer)


def downgrade() -> None:
    for table in NEW_TABLES:
        op.drop_table(table)
    op.drop_column("daily_pnl", "funding")
    op.drop_index("order_events_by_order", "order_events")
    for column in ("role", "parent_client_order_id", "trigger_price", "reduce_only", "leverage"):
        op.drop_column("orders", column)

"""Strategies' figures kept by the projector: ``strategy_totals``.

One row per tenant, strategy and currency: ``currency`` "" holds the strategy's alerts,
trades (alerts that filled), wins and losses (alerts whose fills realized a profit or a loss)
and last signal (latest ``received_at``); a currency holds the alerts whose PnL is in it
(``alerts``) and the PnL they realized. Only alerts a webhook received and with a strategy
count. ``/api/v1/strategies`` reads these rows instead of aggregating every alert.

A tenant table like the others (forced RLS, the same two policies); filled in from the alerts
already in ``intents``, the same aggregate the read used to make.
"""

import sqlalchemy as sa
from alembic import context, op

from libs.common.db import check_schema

revision = "0005"
down_revision = "0004"

READER_DEFAULT = "sparky_ledger_reader"
WRITER_DEFAULT = "sparky_ledger_writer"


def _table() -> None:
    op.create_table(
        "strategy_totals",
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("strategy", sa.Text, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        *(sa.Column(n, sa.Integer, nullable=False) for n in ("alerts", "trades", "wins", "losses")),
        sa.Column("realized_pnl", sa.Numeric, nullable=False),
        sa.Column("last_signal_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "strategy", "currency"),
        postgresql_with={"fillfactor": "70"},
    )
    op.execute(
        "INSERT INTO strategy_totals SELECT tenant_id, strategy, '', count(*), "
        "count(*) FILTER (WHERE filled_amount > 0), count(*) FILTER (WHERE realized_pnl > 0), "
        "count(*) FILTER (WHERE realized_pnl < 0), 0, max(received_at) "
        "FROM intents WHERE webhook_id IS NOT NULL AND strategy IS NOT NULL "
        "GROUP BY tenant_id, strategy"
    )
    op.execute(
        "INSERT INTO strategy_totals SELECT tenant_id, strategy, pnl_currency, count(*), "
        "0, 0, 0, sum(realized_pnl), NULL FROM intents "
        "WHERE webhook_id IS NOT NULL AND strategy IS NOT NULL AND pnl_currency IS NOT NULL "
        "GROUP BY tenant_id, strategy, pnl_currency"
    )


def _secure(reader: str, writer: str) -> None:
    op.execute("ALTER TABLE strategy_totals ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE strategy_totals FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON strategy_totals "
        "USING (tenant_id = current_setting('sparky.tenant_id', true))"
    )
    op.execute(
        f'CREATE POLICY projector_writes ON strategy_totals TO "{writer}" '
        "USING (true) WITH CHECK (true)"
    )
    op.execute(f'GRANT SELECT ON strategy_totals TO "{reader}"')
    op.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON strategy_totals TO "{writer}"')


def upgrade() -> None:
    attributes = context.config.attributes
    reader = check_schema(str(attributes.get("reader_role", READER_DEFAULT)))
    writer = check_schema(str(attributes.get("writer_role", WRITER_DEFAULT)))
    _table()
    _secure(reader, writer)


def downgrade() -> None:
    op.drop_table("strategy_totals")

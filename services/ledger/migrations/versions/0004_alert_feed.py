"""The trader's alert feed: every alert's life in ``intents``, strategies' PnL per day.

- ``intents`` learns the alert's ``strategy``, where it is now for the feed (``feed_status``,
  ``outcome`` in words, ``reason`` code), what filled (``filled_amount``,
  ``filled_notional``) and what its fills realized (``realized_pnl`` in ``pnl_currency``);
  ``seq`` takes the next number of ``intents_seq`` on every change, so a stream of the feed
  resumes after the last number it sent. Refusals at the webhook are rows too.
- Indexes page the feed newest first per tenant, whole or filtered by status, symbol or
  strategy, and follow it by ``seq``; only alerts a webhook received (``webhook_id``) are in
  the feed.
- ``strategy_daily``: realized PnL and fills per tenant, strategy ("" without one), UTC day
  and quote currency; a tenant table like the others (forced RLS, the same two policies).

Rows already there are carried over: their feed status from what the router made of them
(a rebuild refines them), today's daily PnL under no strategy.
"""

import sqlalchemy as sa
from alembic import context, op

from libs.common.db import check_schema

revision = "0004"
down_revision = "0003"

READER_DEFAULT = "sparky_ledger_reader"
WRITER_DEFAULT = "sparky_ledger_writer"
FEED = "webhook_id IS NOT NULL"
FILTERED = ("alerts_by_feed_status", "alerts_by_symbol", "alerts_by_strategy")


def _intents() -> None:
    op.execute("CREATE SEQUENCE intents_seq AS bigint")
    for name in ("strategy", "outcome", "reason", "pnl_currency"):
        op.add_column("intents", sa.Column(name, sa.Text, nullable=True))
    op.add_column(
        "intents", sa.Column("feed_status", sa.Text, nullable=False, server_default="received")
    )
    for name in ("filled_amount", "filled_notional", "realized_pnl"):
        op.add_column("intents", sa.Column(name, sa.Numeric, nullable=False, server_default="0"))
    op.add_column(
        "intents",
        sa.Column(
            "seq", sa.BigInteger, nullable=False, server_default=sa.text("nextval('intents_seq')")
        ),
    )
    op.execute(
        "UPDATE intents SET feed_status = 'rejected', reason = reject_reason, "
        "outcome = 'Rejected: ' || coalesce(reject_message, reject_reason) "
        "WHERE status = 'rejected'"
    )
    op.execute(
        "UPDATE intents SET feed_status = o.status, outcome = 'Order ' || o.status || '.' "
        "FROM (SELECT DISTINCT ON (tenant_id, intent_id) tenant_id, intent_id, "
        "CASE status WHEN 'submitted' THEN 'placed' ELSE status END AS status FROM orders "
        "WHERE role = 'order' AND status <> 'pending' "
        "ORDER BY tenant_id, intent_id, updated_at DESC) AS o "
        "WHERE o.tenant_id = intents.tenant_id AND o.intent_id = intents.intent_id "
        "AND intents.status = 'accepted'"
    )
    by = ("received_at", "intent_id")
    where = sa.text(FEED)
    op.create_index("alerts_feed", "intents", ["tenant_id", *by], postgresql_where=where)
    for column in ("feed_status", "symbol", "strategy"):
        op.create_index(
            f"alerts_by_{column}", "intents", ["tenant_id", column, *by], postgresql_where=where
        )
    op.create_index("alerts_by_seq", "intents", ["tenant_id", "seq"], postgresql_where=where)


def _strategy_daily() -> None:
    op.create_table(
        "strategy_daily",
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("strategy", sa.Text, nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("realized_pnl", sa.Numeric, nullable=False),
        sa.Column("fills", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "strategy", "day", "currency"),
        postgresql_with={"fillfactor": "70"},
    )
    op.execute(
        "INSERT INTO strategy_daily SELECT tenant_id, '', day, currency, sum(realized_pnl), "
        "sum(fills) FROM daily_pnl WHERE fills > 0 GROUP BY tenant_id, day, currency"
    )


def _secure(reader: str, writer: str) -> None:
    op.execute("ALTER TABLE strategy_daily ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE strategy_daily FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON strategy_daily "
        "USING (tenant_id = current_setting('sparky.tenant_id', true))"
    )
    op.execute(
        f'CREATE POLICY projector_writes ON strategy_daily TO "{writer}" '
        "USING (true) WITH CHECK (true)"
    )
    op.execute(f'GRANT SELECT ON strategy_daily TO "{reader}"')
    op.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON strategy_daily TO "{writer}"')
    op.execute(f'GRANT USAGE ON SEQUENCE intents_seq TO "{writer}"')


def upgrade() -> None:
    attributes = context.config.attributes
    reader = check_schema(str(attributes.get("reader_role", READER_DEFAULT)))
    writer = check_schema(str(attributes.get("writer_role", WRITER_DEFAULT)))
    _intents()
    _strategy_daily()
    _secure(reader, writer)


def downgrade() -> None:
    op.drop_table("strategy_daily")
    for index in ("alerts_feed", "alerts_by_seq", *FILTERED):
        op.drop_index(index, "intents")
    for column in (
        "strategy",
        "outcome",
        "reason",
        "pnl_currency",
        "feed_status",
        "filled_amount",
        "filled_notional",
        "realized_pnl",
        "seq",
    ):
        op.drop_column("intents", column)
    op.execute("DROP SEQUENCE intents_seq")

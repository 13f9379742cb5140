"""Strategy positions, and the order state machine shared with the ledger.

- ``positions``: what each (tenant, account, symbol) holds from Sparky's own fills, net of fees
  charged in the coin. It changes in the same statement as the order whose fills move it, so
  it never counts a fill twice or misses one. Sells are sized against it, never against the
  wallet. Filled in from the orders recorded so far (gross of fees: the fees of older fills
  were not recorded; a later sell is still never larger than the wallet holds).
- ``orders`` gain what their sizing found (the position it started from, coins written off
  because the wallet no longer held them, TradingView's expected position, whether the order
  was sized to restore it, a note for the trader).
- The state ``unknown`` is now ``uncertain`` (`libs.common.fsm`).

The writer reads and writes positions; the API role may delete one tenant's (an account's
removal takes its positions with it).
"""

import sqlalchemy as sa
from alembic import context, op

from libs.common.db import check_schema

revision = "0003"
down_revision = "0002"

API_DEFAULT = "sparky_executor_api"
WRITER_DEFAULT = "sparky_executor_writer"
_TENANT = "tenant_id = current_setting('sparky.tenant_id', true)"
_TRACKED = (
    "state IN ('submitted', 'partially_filled') "
    "OR (state IN ('pending', '{unresolved}') AND failure_reported)"
)


def _writer() -> str:
    return check_schema(str(context.config.attributes.get("writer_role", WRITER_DEFAULT)))


def _api() -> str:
    return check_schema(str(context.config.attributes.get("api_role", API_DEFAULT)))


def _track_index(unresolved: str) -> None:
    op.drop_index("orders_to_track", table_name="orders")
    op.create_index(
        "orders_to_track",
        "orders",
        ["partition", "updated_at"],
        postgresql_where=sa.text(_TRACKED.format(unresolved=unresolved)),
    )


def upgrade() -> None:
    writer = _writer()
    op.add_column("orders", sa.Column("expected_position", sa.Numeric, nullable=True))
    op.add_column(
        "orders", sa.Column("healed", sa.Boolean, nullable=False, server_default=sa.false())
    )
    op.add_column("orders", sa.Column("position_before", sa.Numeric, nullable=True))
    op.add_column(
        "orders", sa.Column("written_off", sa.Numeric, nullable=False, server_default="0")
    )
    op.add_column("orders", sa.Column("note", sa.Text, nullable=True))
    op.create_table(
        "positions",
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("account_label", sa.Text, nullable=False),
        sa.Column("symbol", sa.Text, nullable=False),
        sa.Column("quantity", sa.Numeric, nullable=False, server_default="0"),
        # Fees the exchange took in the coin since the position was last flat: TradingView's
        # position does not count them, so a difference up to this much is not drift.
        sa.Column("coin_fees", sa.Numeric, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "account_label", "symbol"),
    )
    op.execute("ALTER TABLE positions ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE positions FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON positions USING ({_TENANT}) WITH CHECK ({_TENANT})"
    )
    op.execute(
        f'CREATE POLICY order_path ON positions TO "{writer}" USING (true) WITH CHECK (true)'
    )
    op.execute(f'GRANT SELECT, INSERT, UPDATE ON positions TO "{writer}"')
    # Removing an account forgets its strategy positions (one tenant's, by policy): an account
    # added again under the label starts with none, so nothing it holds is sold as the
    # strategy's.
    op.execute(f'GRANT SELECT, DELETE ON positions TO "{_api()}"')
    # As the writer, whose policies see every order: forced RLS hides them from the owner.
    op.execute(f'SET LOCAL ROLE "{writer}"')
    op.execute("UPDATE orders SET state = 'uncertain' WHERE state = 'unknown'")
    op.execute(
        "INSERT INTO positions (tenant_id, account_label, symbol, quantity, updated_at) "
        "SELECT tenant_id, account_label, symbol, "
        "sum(CASE side WHEN 'buy' THEN filled ELSE -filled END), now() "
        "FROM orders GROUP BY tenant_id, account_label, symbol "
        "HAVING sum(CASE side WHEN 'buy' THEN filled ELSE -filled END) > 0"
    )
    op.execute("RESET ROLE")
    _track_index("uncertain")


def downgrade() -> None:
    writer = _writer()
    op.execute(f'SET LOCAL ROLE "{writer}"')
    op.execute("UPDATE orders SET state = 'unknown' WHERE state = 'uncertain'")
    op.execute("RESET ROLE")
    _track_index("unknown")
    op.drop_table("positions")
    for column in ("note", "written_off", "position_before", "healed", "expected_position"):
        op.drop_column("orders", column)

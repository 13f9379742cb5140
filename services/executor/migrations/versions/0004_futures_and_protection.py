"""Futures orders and protective orders.

``orders`` gain what a futures order and its protection need:

- ``role`` (``order``, ``take_profit``, ``stop_loss``) and ``parent_client_order_id``: a
  protective order is a record of its own, placed after its entry (the parent) filled, with a
  client order id derived from the entry's, so it is placed exactly once whatever crashes.
- ``reduce_only``, ``trigger_price``, ``leverage``: as sent to the exchange.
- ``take_profit`` / ``stop_loss``: the entry's targets as the router sent them (JSON), and
  ``protection``: ``owed`` from the entry's fill until its protective orders are placed
  (``placed``) or given up (``failed``). The tracker follows filled entries still owed.
- ``average_price``: the entry's average fill price, which percent and distance targets are
  measured from.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"

_TRACKED = (
    "state IN ('submitted', 'partially_filled') "
    "OR (state IN ('pending', 'uncertain') AND failure_reported)"
)
_OWED = "protection = 'owed'"


def _track_index(where: str) -> None:
    op.drop_index("orders_to_track", table_name="orders")
    op.create_index(
        "orders_to_track", "orders", ["partition", "updated_at"], postgresql_where=sa.text(where)
    )


def upgrade() -> None:
    op.add_column("orders", sa.Column("role", sa.Text, nullable=False, server_default="order"))
    op.add_column("orders", sa.Column("parent_client_order_id", sa.Text, nullable=True))
    op.add_column(
        "orders", sa.Column("reduce_only", sa.Boolean, nullable=False, server_default=sa.false())
    )
    for column in ("trigger_price", "leverage", "average_price"):
        op.add_column("orders", sa.Column(column, sa.Numeric, nullable=True))
    for column in ("take_profit", "stop_loss", "protection"):
        op.add_column("orders", sa.Column(column, sa.Text, nullable=True))
    op.create_index(
        "orders_by_parent",
        "orders",
        ["parent_client_order_id"],
        postgresql_where=sa.text("parent_client_order_id IS NOT NULL"),
    )
    op.create_index(
        "orders_open_by_symbol",
        "orders",
        ["tenant_id", "account_label", "symbol"],
        postgresql_where=sa.text("state IN ('submitted', 'partially_filled')"),
    )
    _track_index(f"{_TRACKED} OR ({_OWED})")


def downgrade() -> None:
    _track_index(_TRACKED)
    op.drop_index("orders_open_by_symbol", table_name="orders")
    op.drop_index("orders_by_parent", table_name="orders")
    for column in (
        "protection",
        "stop_loss",
        "take_profit",
        "average_price",
        "leverage",
        "trigger_price",
        "reduce_only",
        "parent_client_order_id",
        "role",
    ):
        op.drop_column("orders", column)

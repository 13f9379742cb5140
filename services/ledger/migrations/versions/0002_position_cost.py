"""Positions keep their exact cost: what was paid for what is held (received, for a short).

The average entry price is that cost over the quantity, rounded to 34 significant digits; with
the cost kept exactly, a round trip to flat realizes exactly what it sold for less what it paid,
however the entry price rounds (spot buys whose fee is taken in the coin bought have entry
prices like 60,060.06006…). Filled in from the positions there are: quantity times entry price.
"""

import sqlalchemy as sa
from alembic import context, op

from libs.common.db import check_schema

revision = "0002"
down_revision = "0001"

WRITER_DEFAULT = "sparky_ledger_writer"


def upgrade() -> None:
    writer = check_schema(str(context.config.attributes.get("writer_role", WRITER_DEFAULT)))
    op.add_column("positions", sa.Column("cost", sa.Numeric, nullable=False, server_default="0"))
    # As the writer, whose policy sees every row: forced RLS hides them from the owner.
    op.execute(f'SET LOCAL ROLE "{writer}"')
    op.execute("UPDATE positions SET cost = abs(quantity) * average_price")
    op.execute("RESET ROLE")


def downgrade() -> None:
    op.drop_column("positions", "cost")

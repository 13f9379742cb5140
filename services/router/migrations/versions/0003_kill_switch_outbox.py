"""``settings.kill_switch`` notices owed: one row per settings change that moved a kill switch.

The change's transaction inserts the notice (the event as JSON); the API publishes it once
committed, then deletes the row; a row left by a crash or a NATS outage is published by every
router's announcer within seconds (the same message id each time: JetStream drops a repeat).

The table holds no tenant's settings, only the notices, and is not under row-level security:
the announcer reads every tenant's. The writer role inserts (in the change's transaction),
reads and deletes them.
"""

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects.postgresql import JSONB

from libs.common.db import check_schema
from libs.common.migrations import ensure_role_sql

revision = "0003"
down_revision = "0002"

WRITER_DEFAULT = "sparky_router_writer"


def _writer() -> str:
    return check_schema(str(context.config.attributes.get("writer_role", WRITER_DEFAULT)))


def upgrade() -> None:
    op.create_table(
        "kill_switch_outbox",
        sa.Column("change_id", sa.BigInteger, primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("event", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    writer = _writer()
    op.execute(ensure_role_sql(writer))
    op.execute(f'GRANT SELECT, INSERT, DELETE ON kill_switch_outbox TO "{writer}"')


def downgrade() -> None:
    op.drop_table("kill_switch_outbox")

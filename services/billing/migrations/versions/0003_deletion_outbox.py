"""A deleted tenant's ``tenant.deleted`` event is owed until JetStream acknowledged it.

``deletion_announced_at`` stays NULL from the deletion's commit until the event is stored;
billing's maintenance publishes every deleted tenant still owing it (a crash between the
commit and the publish loses nothing). Tenants deleted before this migration owe it too, so
the first start after the upgrade purges what their deletion left with the executor.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.add_column("tenants", sa.Column("deletion_announced_at", sa.DateTime(timezone=True)))
    op.create_index(
        "tenants_deletion_owed",
        "tenants",
        ["tenant_id"],
        postgresql_where=sa.text("lifecycle = 'deleted' AND deletion_announced_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("tenants_deletion_owed", "tenants")
    op.drop_column("tenants", "deletion_announced_at")

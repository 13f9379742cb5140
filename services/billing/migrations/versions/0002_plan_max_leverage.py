"""Plans cap futures leverage: ``max_leverage`` (None: the venue's own cap)."""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"

# The seeded plans' caps; operators change rows, not code (enterprise: 125, or per contract
# through a tenant's limit overrides).
CAPS = {"free": 5, "basic": 10, "pro": 20, "enterprise": 125}


def upgrade() -> None:
    op.add_column("plans", sa.Column("max_leverage", sa.Integer))
    op.create_check_constraint(
        "plans_max_leverage_range", "plans", "max_leverage BETWEEN 1 AND 125"
    )
    plans = sa.table("plans", sa.column("name", sa.String), sa.column("max_leverage", sa.Integer))
    for name, cap in CAPS.items():
        op.execute(plans.update().where(plans.c.name == name).values(max_leverage=cap))


def downgrade() -> None:
    op.drop_constraint("plans_max_leverage_range", "plans")
    op.drop_column("plans", "max_leverage")

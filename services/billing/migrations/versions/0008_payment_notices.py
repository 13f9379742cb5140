"""``billing.payment_failed`` and ``billing.grace_ending``: each once per grace period.

A grace period is known by when it ends (``grace_ends_at``): each column holds the end of the
grace period whose notice JetStream stored, so a notice is owed while its column differs from
the tenant's ``grace_ends_at`` (a new failure after a paid invoice starts a new period, owed
again without anything to reset). Failures from before this migration are not announced.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"

_COLUMNS = ("payment_failed_notice_for", "grace_ending_notice_for")


def upgrade() -> None:
    for column in _COLUMNS:
        op.add_column("tenants", sa.Column(column, sa.DateTime(timezone=True)))
    op.execute(
        "UPDATE tenants SET payment_failed_notice_for = grace_ends_at "
        "WHERE grace_ends_at IS NOT NULL"
    )


def downgrade() -> None:
    for column in _COLUMNS:
        op.drop_column("tenants", column)

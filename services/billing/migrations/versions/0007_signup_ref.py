"""Tenants created by the web app's sign-up carry its reference (the web user's id), so that a
sign-up retried after a lost answer finds its tenant instead of creating a second one.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.add_column("tenants", sa.Column("signup_ref", sa.String(64), nullable=True))
    op.create_unique_constraint("tenants_signup_ref", "tenants", ["signup_ref"])


def downgrade() -> None:
    op.drop_constraint("tenants_signup_ref", "tenants")
    op.drop_column("tenants", "signup_ref")

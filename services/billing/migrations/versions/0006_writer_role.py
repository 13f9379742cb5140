"""Billing works through a role of its own, not as the owner of its tables.

The service's runtime login owns nothing and inherits nothing: every connection switches to the
writer (``<prefix>_billing_writer``, NOLOGIN, without BYPASSRLS), which may read and change
rows of billing's tables and nothing else: no DDL, no ``alembic_version``. A later migration
that creates a table grants it here too.
"""

from alembic import context, op

from libs.common.db import check_schema
from libs.common.migrations import ensure_role_sql

revision = "0006"
down_revision = "0005"

WRITER_DEFAULT = "sparky_billing_writer"
TABLES = (
    "plans",
    "tenants",
    "webhooks",
    "webhook_tokens",
    "api_keys",
    "stripe_events",
    "usage_counters",
    "usage_processed",
    "usage_filled_orders",
    "operators",
)
APPEND_ONLY = ("operator_audit",)  # its trigger refuses UPDATE and DELETE to every role anyway


def _writer() -> str:
    # Role names are interpolated in DDL: the same identifier rule as schema names.
    return check_schema(str(context.config.attributes.get("writer_role", WRITER_DEFAULT)))


def upgrade() -> None:
    writer = _writer()
    op.execute(ensure_role_sql(writer))
    for table in TABLES:
        op.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO "{writer}"')
    for table in APPEND_ONLY:
        op.execute(f'GRANT SELECT, INSERT ON {table} TO "{writer}"')


def downgrade() -> None:
    writer = _writer()
    for table in (*TABLES, *APPEND_ONLY):
        op.execute(f'REVOKE ALL ON {table} FROM "{writer}"')

"""Operators as named people with their own tokens, and the append-only audit of their actions.

The ``bootstrap`` operator stands for the configured token (``SPARKY_BILLING_OPERATOR_TOKEN``):
it has no digest here, and revoking it disables that token. The audit table refuses UPDATE,
DELETE and TRUNCATE with a trigger, for every role, the table's owner included.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from libs.common.ids import new_id

revision = "0005"
down_revision = "0004"

_APPEND_ONLY = """
CREATE FUNCTION operator_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'operator_audit is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$
"""


def _at(name: str, *, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    operators = op.create_table(
        "operators",
        sa.Column("operator_id", sa.String(26), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), unique=True),
        sa.Column("prefix", sa.String(8)),
        sa.Column("created_by", sa.String(64)),
        _at("created_at", nullable=False),
        sa.Column("revoked_by", sa.String(64)),
        _at("revoked_at"),
    )
    op.create_index(
        "operators_live_name",
        "operators",
        ["name"],
        unique=True,
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    op.bulk_insert(
        operators,
        [{"operator_id": new_id(), "name": "bootstrap", "created_at": datetime.now(UTC)}],
    )
    op.create_table(
        "operator_audit",
        sa.Column("audit_id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        _at("at", nullable=False),
        sa.Column("operator_id", sa.String(26), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("tenant_id", sa.String(64)),
        sa.Column("target", sa.String(64)),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
    )
    op.create_index("operator_audit_by_operator", "operator_audit", ["operator", "audit_id"])
    op.create_index("operator_audit_by_tenant", "operator_audit", ["tenant_id", "audit_id"])
    op.create_index("operator_audit_by_time", "operator_audit", ["at"])
    op.execute(_APPEND_ONLY)
    op.execute(
        "CREATE TRIGGER operator_audit_no_change BEFORE UPDATE OR DELETE ON operator_audit "
        "FOR EACH ROW EXECUTE FUNCTION operator_audit_append_only()"
    )
    op.execute(
        "CREATE TRIGGER operator_audit_no_truncate BEFORE TRUNCATE ON operator_audit "
        "FOR EACH STATEMENT EXECUTE FUNCTION operator_audit_append_only()"
    )


def downgrade() -> None:
    op.drop_table("operator_audit")
    op.execute("DROP FUNCTION operator_audit_append_only()")
    op.drop_table("operators")

"""Roles the router's store switches to, so the forced policies of 0001 bind it.

0001 forced row-level security on both tables, but a service connecting as a superuser or a
BYPASSRLS role was never held to it. Every store transaction now switches to one of two roles,
both NOLOGIN and without BYPASSRLS, and both subject to the one tenant policy:

- the reader (reads, including the router's settings cache): ``SELECT`` only;
- the writer (the API's changes): changes layers and appends history, one tenant at a time.

Roles are cluster-wide: their names carry the deployment's prefix (attributes from the
settings, `libs.common.db_roles`). They are created only when missing, NOLOGIN and without
BYPASSRLS (normally beforehand, by `libs.common.db_logins`, which also makes the runtime
login a member so the service can switch to them).
"""

from alembic import context, op

from libs.common.db import check_schema
from libs.common.migrations import ensure_role_sql

revision = "0002"
down_revision = "0001"

READER_DEFAULT = "sparky_router_reader"
WRITER_DEFAULT = "sparky_router_writer"
_GRANTS = {
    "reader": (
        "SELECT ON trade_settings",
        "SELECT ON trade_settings_history",
    ),
    "writer": (
        "SELECT, INSERT, UPDATE, DELETE ON trade_settings",
        "SELECT, INSERT ON trade_settings_history",
        "USAGE ON SEQUENCE trade_settings_history_id_seq",
    ),
}


def _ensure_role(role: str) -> None:
    op.execute(ensure_role_sql(role))


def _roles() -> dict[str, str]:
    attributes = context.config.attributes
    # Role names are interpolated in DDL: the same identifier rule as schema names.
    return {
        "reader": check_schema(str(attributes.get("reader_role", READER_DEFAULT))),
        "writer": check_schema(str(attributes.get("writer_role", WRITER_DEFAULT))),
    }


def upgrade() -> None:
    for kind, role in _roles().items():
        _ensure_role(role)
        for grant in _GRANTS[kind]:
            op.execute(f'GRANT {grant} TO "{role}"')


def downgrade() -> None:
    for kind, role in _roles().items():
        for grant in _GRANTS[kind]:
            privileges, target = grant.split(" ON ")
            op.execute(f'REVOKE {privileges} ON {target} FROM "{role}"')

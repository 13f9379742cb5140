"""Row-Level Security on the executor's tables, and the two roles that work under it.

Both tables carry ``tenant_id`` and force RLS, so even their owner sees nothing unless a
policy lets it:

- ``tenant_isolation`` (every role): only rows of the tenant set with
  ``set_config('sparky.tenant_id', …, true)`` in the current transaction, for reading and
  for writing;
- ``order_path`` (the writer role only): every order, and reading every account, for the
  order path, the tracker and the re-sync of the ``accounts`` bucket.

The API role (the exchange-accounts API) may read and change accounts, one tenant at a time;
it has no right on ``orders``. The writer may read accounts and read, insert and update
orders. Roles are cluster-wide: their names carry the deployment's prefix (attributes from the
settings, `libs.common.db_roles`). They are created only when missing, NOLOGIN and without
BYPASSRLS (normally beforehand, by `libs.common.db_logins`, which also makes the runtime
login a member so the service can switch to them).
"""

from alembic import context, op

from libs.common.db import check_schema
from libs.common.migrations import ensure_role_sql

revision = "0002"
down_revision = "0001"

API_DEFAULT = "sparky_executor_api"
WRITER_DEFAULT = "sparky_executor_writer"
_TENANT = "tenant_id = current_setting('sparky.tenant_id', true)"


def _ensure_role(role: str) -> None:
    op.execute(ensure_role_sql(role))


def _isolate(table: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} USING ({_TENANT}) WITH CHECK ({_TENANT})"
    )


def _roles() -> tuple[str, str]:
    attributes = context.config.attributes
    # Role names are interpolated in DDL: the same identifier rule as schema names.
    api = check_schema(str(attributes.get("api_role", API_DEFAULT)))
    writer = check_schema(str(attributes.get("writer_role", WRITER_DEFAULT)))
    return api, writer


def upgrade() -> None:
    api, writer = _roles()
    _ensure_role(api)
    _ensure_role(writer)
    _isolate("accounts")
    _isolate("orders")
    op.execute(f'CREATE POLICY order_path ON accounts FOR SELECT TO "{writer}" USING (true)')
    op.execute(f'CREATE POLICY order_path ON orders TO "{writer}" USING (true) WITH CHECK (true)')
    op.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON accounts TO "{api}"')
    op.execute(f'GRANT SELECT ON accounts TO "{writer}"')
    op.execute(f'GRANT SELECT, INSERT, UPDATE ON orders TO "{writer}"')


def downgrade() -> None:
    for table in ("accounts", "orders"):
        for role in _roles():
            op.execute(f'REVOKE ALL ON {table} FROM "{role}"')
        op.execute(f"DROP POLICY IF EXISTS order_path ON {table}")
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")

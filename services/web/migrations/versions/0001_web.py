"""Users, sessions, mail tokens, kept webhook tokens, sign-in attempts; RLS per user.

Row-level security: the writer (``<prefix>_web_writer``, the only role the runtime login
switches to) sees a user's rows only after ``set_config('sparky.web_user_id', <user>, true)``
in the transaction. Three lookups must find a user before anyone is known (by email at
sign-in, by session digest on each request, by mail-link digest): they are ``SECURITY DEFINER``
functions owned by the migration login, each returning one user id and nothing else. RLS is
enabled, not forced, so that those functions (run as the owner) can see every row.
``login_attempts`` holds no user data (digests of an email and of an address), so no policy.
"""

import sqlalchemy as sa
from alembic import context, op

from libs.common.db import check_schema
from libs.common.migrations import ensure_role_sql

revision = "0001"
down_revision = None

WRITER_DEFAULT = "sparky_web_writer"
_POLICY = "user_id = current_setting('sparky.web_user_id', true)"
USER_TABLES = ("users", "sessions", "email_tokens", "webhook_tokens_kept")
FUNCTIONS = {
    "web_user_by_email": (
        "p_email_key text",
        "SELECT user_id FROM users WHERE email_key = p_email_key",
    ),
    "web_user_by_session": (
        "p_digest text",
        "SELECT user_id FROM sessions WHERE token_sha256 = p_digest",
    ),
    "web_user_by_email_token": (
        "p_digest text",
        "SELECT user_id FROM email_tokens WHERE token_sha256 = p_digest",
    ),
}


def _writer() -> str:
    return check_schema(str(context.config.attributes.get("writer_role", WRITER_DEFAULT)))


def _at(name: str, *, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _user_id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "user_id",
        sa.String(32),
        sa.ForeignKey("users.user_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )


def _tables() -> None:
    op.create_table(
        "users",
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("email_key", sa.String(254), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        _at("created_at", nullable=False),
        _at("verified_at"),
        sa.Column("tenant_id", sa.String(64), unique=True),
        sa.Column("api_key_sealed", sa.LargeBinary),
        sa.Column("totp_secret_sealed", sa.LargeBinary),
        sa.Column("totp_enabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("totp_last_step", sa.BigInteger),
    )
    op.create_table(
        "sessions",
        sa.Column("session_id", sa.String(32), primary_key=True),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        _user_id(),
        _at("created_at", nullable=False),
        _at("last_seen_at", nullable=False),
        _at("expires_at", nullable=False),
        _at("revoked_at"),
    )
    op.create_table(
        "email_tokens",
        sa.Column("token_sha256", sa.String(64), primary_key=True),
        _user_id(),
        sa.Column("purpose", sa.String(8), nullable=False),
        _at("created_at", nullable=False),
        _at("expires_at", nullable=False),
        _at("used_at"),
        sa.CheckConstraint("purpose IN ('verify', 'reset')", name="email_tokens_purpose"),
    )
    op.create_table(
        "webhook_tokens_kept",
        _user_id(),
        sa.Column("webhook_id", sa.String(64), nullable=False),
        sa.Column("token_sealed", sa.LargeBinary, nullable=False),
        _at("kept_at", nullable=False),
        sa.PrimaryKeyConstraint("user_id", "webhook_id"),
    )
    op.create_table(
        "login_attempts",
        sa.Column("attempt_id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("key_sha256", sa.String(64), nullable=False),
        _at("at", nullable=False),
    )
    op.create_index("login_attempts_by_key", "login_attempts", ["kind", "key_sha256", "at"])


def _security(writer: str, schema: str) -> None:
    for table in USER_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f'CREATE POLICY {table}_own ON {table} TO "{writer}" '
            f"USING ({_POLICY}) WITH CHECK ({_POLICY})"
        )
        op.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO "{writer}"')
    op.execute(f'GRANT SELECT, INSERT, DELETE ON login_attempts TO "{writer}"')
    for name, (arguments, body) in FUNCTIONS.items():
        op.execute(
            f"CREATE FUNCTION {name}({arguments}) RETURNS text LANGUAGE sql STABLE "
            f'SECURITY DEFINER SET search_path = "{schema}", pg_temp AS $$ {body} $$'
        )
        op.execute(f"REVOKE ALL ON FUNCTION {name}(text) FROM PUBLIC")
        op.execute(f'GRANT EXECUTE ON FUNCTION {name}(text) TO "{writer}"')


def upgrade() -> None:
    writer = _writer()
    config = context.config
    schema = config.attributes.get("schema") or context.get_x_argument(as_dictionary=True)["schema"]
    schema = check_schema(str(schema))
    op.execute(ensure_role_sql(writer))
    _tables()
    _security(writer, schema)


def downgrade() -> None:
    for name in FUNCTIONS:
        op.execute(f"DROP FUNCTION {name}(text)")
    for table in ("login_attempts", "webhook_tokens_kept", "email_tokens", "sessions", "users"):
        op.drop_table(table)

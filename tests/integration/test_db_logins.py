"""Two logins per deployment, on the real server: the migration login owns the schema; the
runtime login the services use owns nothing, cannot turn Row-Level Security off or drop a
table, cannot switch to another deployment's roles (staging next to production on one
server), and the services' own queries still work through it.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest
from sqlalchemy import text

from libs.common.db import connect_as, make_engine, upgrade
from libs.common.db_logins import provision, scram_verifier
from libs.common.db_roles import role_attributes, role_name
from services.executor.accounts.store import AccountStore
from services.executor.runtime import MIGRATIONS as EXECUTOR_MIGRATIONS
from services.ledger.api.reads import Reads
from services.ledger.store import progress as ledger_progress
from services.ledger.store.database import MIGRATIONS as LEDGER_MIGRATIONS
from services.router.store.records import LayerKey
from services.router.store.settings import SettingsStore
from services.router.store.tables import MIGRATIONS as ROUTER_MIGRATIONS
from tests.helpers.db_logins import Deployment, deployment
from tests.helpers.namespaces import new_namespace
from tests.helpers.router import layer
from tests.helpers.servers import ServerUrls

T0 = datetime(2026, 1, 7, tzinfo=UTC)


@pytest.fixture
async def production(server_urls: ServerUrls) -> AsyncIterator[Deployment]:
    """A deployment whose router schema is migrated by its migration login."""
    async with deployment(server_urls.postgres, new_namespace()) as found:
        await _migrate(found, "router")
        yield found


@pytest.fixture
async def staging(server_urls: ServerUrls) -> AsyncIterator[Deployment]:
    """Another deployment on the same server, with roles of its own prefix."""
    async with deployment(server_urls.postgres, new_namespace()) as found:
        await _migrate(found, "router")
        yield found


def _schema(dep: Deployment, service: str) -> str:
    return f"{dep.logins.prefix}_{service}"


async def _migrate(dep: Deployment, service: str) -> None:
    migrations = {
        "router": ROUTER_MIGRATIONS,
        "executor": EXECUTOR_MIGRATIONS,
        "ledger": LEDGER_MIGRATIONS,
    }[service]
    roles = role_attributes(dep.logins.prefix, service)
    await upgrade(migrations, dep.migration_url, _schema(dep, service), attributes=roles)


async def _runtime(dep: Deployment, *, as_kind: str | None = None) -> asyncpg.Connection:
    conn = await asyncpg.connect(dep.runtime_url)
    if as_kind is not None:
        await conn.execute(f'SET ROLE "{role_name(dep.logins.prefix, "router", as_kind)}"')
    return conn


@pytest.mark.parametrize("as_kind", [None, "reader", "writer"])
@pytest.mark.parametrize("change", ["DISABLE ROW LEVEL SECURITY", "NO FORCE ROW LEVEL SECURITY"])
async def test_the_runtime_login_cannot_turn_row_level_security_off(
    production: Deployment, server_urls: ServerUrls, change: str, as_kind: str | None
) -> None:
    conn = await _runtime(production, as_kind=as_kind)
    try:
        with pytest.raises(
            asyncpg.InsufficientPrivilegeError, match=r"must be owner|permission denied"
        ):
            await conn.execute(
                f"ALTER TABLE {_schema(production, 'router')}.trade_settings {change}"
            )
    finally:
        await conn.close()
    admin = await asyncpg.connect(server_urls.postgres)
    try:
        still = await admin.fetchrow(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = $1 AND relname = 'trade_settings'",
            _schema(production, "router"),
        )
    finally:
        await admin.close()
    assert tuple(still) == (True, True)


@pytest.mark.parametrize("as_kind", [None, "writer"])
@pytest.mark.parametrize(
    "statement",
    [
        "DROP TABLE {schema}.trade_settings",
        "DROP SCHEMA {schema} CASCADE",
        "TRUNCATE {schema}.trade_settings",
        "DELETE FROM {schema}.alembic_version",
        "CREATE TABLE {schema}.planted (x int)",
    ],
)
async def test_the_runtime_login_cannot_drop_or_create_tables_or_touch_the_migrations(
    production: Deployment, statement: str, as_kind: str | None
) -> None:
    conn = await _runtime(production, as_kind=as_kind)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(statement.format(schema=_schema(production, "router")))
        tables = await conn.fetchval(
            "SELECT count(*) FROM pg_tables WHERE schemaname = $1", _schema(production, "router")
        )
    finally:
        await conn.close()
    assert tables == 4  # trade_settings, its history, kill_switch_outbox, alembic_version


@pytest.mark.parametrize("kind", ["reader", "writer"])
async def test_a_runtime_login_cannot_switch_to_another_deployments_roles(
    staging: Deployment, production: Deployment, kind: str
) -> None:
    theirs = role_name(production.logins.prefix, "router", kind)
    conn = await _runtime(staging)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await conn.execute(f'SET ROLE "{theirs}"')
        async with conn.transaction():
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                await conn.execute("SELECT set_config('role', $1, true)", theirs)
        # Its own role of the same kind it may take.
        await conn.execute(f'SET ROLE "{role_name(staging.logins.prefix, "router", kind)}"')
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.fetch(f"SELECT * FROM {_schema(production, 'router')}.trade_settings")
    finally:
        await conn.close()


async def test_the_migration_login_owns_everything_and_the_runtime_login_nothing(
    production: Deployment, server_urls: ServerUrls
) -> None:
    logins = production.logins
    admin = await asyncpg.connect(server_urls.postgres)
    try:
        owners = await admin.fetch(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = $1",
            _schema(production, "router"),
        )
        runtime = await admin.fetchrow(
            "SELECT rolinherit, rolsuper, rolbypassrls, rolcreaterole FROM pg_roles "
            "WHERE rolname = $1",
            logins.runtime,
        )
        member_of = await admin.fetch(
            "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
            "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1 ORDER BY 1",
            logins.runtime,
        )
    finally:
        await admin.close()
    assert [row["tableowner"] for row in owners] == [logins.migration]
    assert tuple(runtime) == (False, False, False, False)
    assert [row["rolname"] for row in member_of] == sorted(logins.roles)


async def test_the_runtime_login_alone_reads_no_table(production: Deployment) -> None:
    conn = await _runtime(production)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.fetch(f"SELECT * FROM {_schema(production, 'router')}.trade_settings")
    finally:
        await conn.close()


async def test_the_router_store_works_through_the_runtime_login(production: Deployment) -> None:
    prefix = production.logins.prefix
    engine = make_engine(production.runtime_url, _schema(production, "router"), pool_size=2)
    try:
        store = SettingsStore(
            engine,
            reader_role=role_name(prefix, "router", "reader"),
            writer_role=role_name(prefix, "router", "writer"),
        )
        await store.put("tenant-a", LayerKey.tenant(), layer(quantity=1), by="tenant-a", now=T0)
        layers = await store.layers("tenant-a")
        history = await store.history("tenant-a")
    finally:
        await engine.dispose()
    assert [lay.key.account_label for lay in layers] == [""]
    assert [change.changed_by for change in history] == ["tenant-a"]


async def test_the_executor_and_ledger_stores_work_through_the_runtime_login(
    production: Deployment,
) -> None:
    prefix = production.logins.prefix
    await _migrate(production, "executor")
    await _migrate(production, "ledger")
    executor = make_engine(production.runtime_url, _schema(production, "executor"), pool_size=2)
    connect_as(executor, role_name(prefix, "executor", "writer"))
    ledger = make_engine(production.runtime_url, _schema(production, "ledger"), pool_size=2)
    try:
        accounts = AccountStore(executor, role_name(prefix, "executor", "api"))
        async with accounts.as_tenant("tenant-a") as conn:
            assert await accounts.count(conn) == 0
        assert await accounts.all() == []
        positions = await Reads(ledger, role_name(prefix, "ledger", "reader")).positions(
            "tenant-a", None, None
        )
        async with ledger.connect() as conn:
            seq = await ledger_progress.last_applied_seq(
                conn, "EVENTS", role=role_name(prefix, "ledger", "writer")
            )
            async with conn.begin():
                await conn.execute(text("SELECT 1"))
    finally:
        await executor.dispose()
        await ledger.dispose()
    assert positions.positions == []
    assert seq == 0


async def test_passwords_are_sent_as_scram_verifiers_postgres_accepts(
    production: Deployment, server_urls: ServerUrls
) -> None:
    password = "correct horse battery staple"
    admin = await asyncpg.connect(server_urls.postgres)
    try:
        await provision(admin, production.logins, runtime_password=password)
        stored = await admin.fetchval(
            "SELECT rolpassword FROM pg_authid WHERE rolname = $1", production.logins.runtime
        )
    finally:
        await admin.close()
    # Postgres keeps a verifier it can parse as it came, and hashes anything else itself: the
    # same verifier recomputed from its salt proves it was taken as sent.
    salt = base64.b64decode(stored.split(":")[1].split("$")[0])
    assert stored == scram_verifier(password, salt=salt)
    assert "horse" not in stored

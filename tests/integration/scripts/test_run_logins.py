"""`make run` creates the deployment's two logins on the local Postgres, again and again."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from scripts.servers import ensure_logins
from tests.helpers.db_logins import drop_roles_of
from tests.helpers.namespaces import new_namespace
from tests.helpers.servers import ServerUrls


@pytest.fixture
async def namespace_of_a_run(server_urls: ServerUrls) -> AsyncIterator[str]:
    namespace = new_namespace()
    yield namespace
    conn = await asyncpg.connect(server_urls.postgres)
    try:
        await drop_roles_of(conn, namespace)
    finally:
        await conn.close()


async def test_run_creates_both_logins_idempotently_and_they_log_in(
    server_urls: ServerUrls, namespace_of_a_run: str
) -> None:
    await ensure_logins(server_urls.postgres, namespace_of_a_run)
    runtime_url, migration_url = await ensure_logins(server_urls.postgres, namespace_of_a_run)
    users = []
    for url in (runtime_url, migration_url):
        conn = await asyncpg.connect(url)
        try:
            users.append(await conn.fetchval("SELECT current_user"))
            inherits = await conn.fetchval(
                "SELECT rolinherit FROM pg_roles WHERE rolname = current_user"
            )
        finally:
            await conn.close()
        assert inherits is (url == migration_url)
    assert users == [f"{namespace_of_a_run}_app", f"{namespace_of_a_run}_migrator"]

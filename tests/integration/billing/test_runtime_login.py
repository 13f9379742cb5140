"""Billing as deployed: migrated by the migration login, running as a runtime login that owns
none of its tables and works only through ``<prefix>_billing_writer``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from nats.js import JetStreamContext
from opentelemetry.sdk.trace import TracerProvider

from libs.common.db import upgrade
from libs.common.db_roles import role_attributes
from services.billing.app import MIGRATIONS, create_app
from services.billing.config import BillingSettings
from tests.helpers.billing import OPERATOR, Clock
from tests.helpers.db_logins import Deployment, deployment
from tests.helpers.servers import ServerUrls


@pytest.fixture
async def logins(
    server_urls: ServerUrls, billing_settings: BillingSettings
) -> AsyncIterator[Deployment]:
    # Named after the test's namespace: the settings' roles are <namespace>_billing_writer.
    async with deployment(server_urls.postgres, billing_settings.namespace) as found:
        yield found


async def test_billing_serves_the_operator_api_through_the_runtime_login(
    billing_settings: BillingSettings, logins: Deployment, js: JetStreamContext, clock: Clock
) -> None:
    schema = f"{logins.logins.prefix}_billing"
    roles = role_attributes(logins.logins.prefix, "billing")
    await upgrade(MIGRATIONS, logins.migration_url, schema, attributes=roles)
    settings = billing_settings.model_copy(
        update={
            "database_url": logins.runtime_url,
            "database_schema": schema,
            "migrate_on_start": False,
        }
    )
    app = create_app(settings, clock=clock, tracer_provider=TracerProvider())
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://billing") as http:
            created = await http.post("/api/v1/tenants", json={"name": "Ada"}, headers=OPERATOR)
            tenant_id = created.json()["tenant"]["tenant_id"]
            deleted = await http.delete(f"/api/v1/tenants/{tenant_id}", headers=OPERATOR)
            shown = await http.get(f"/api/v1/tenants/{tenant_id}", headers=OPERATOR)
    assert created.status_code == 201, created.text
    assert deleted.status_code == 204
    assert shown.json()["status"] == "deleted"
    conn = await asyncpg.connect(logins.runtime_url)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(f"SET ROLE {roles['writer_role']}; DROP TABLE {schema}.tenants")
    finally:
        await conn.close()

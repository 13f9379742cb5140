"""The notifier on the test's own stream and schema: settings and a migrated runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from nats.js import JetStreamContext

from libs.common.config import Environment
from libs.common.topology import Topology
from services.notifier.config import NotifierSettings
from services.notifier.database import Database, migrate
from services.notifier.runtime import Runtime
from tests.helpers.namespaces import PgSchema
from tests.helpers.servers import ServerUrls


@pytest.fixture
def settings(server_urls: ServerUrls, topology: Topology, pg_schema: PgSchema) -> NotifierSettings:
    """Settings of a notifier on this test's namespace and schema, with quick timings."""
    return NotifierSettings(
        environment=Environment.TEST,
        namespace=topology.namespace,
        nats_url=server_urls.nats,
        database_url=pg_schema.url,
        database_schema=pg_schema.name,
        batch_wait_s=0.01,
        sender_poll_s=0.05,
        retry_initial_s=0.05,
        retry_max_s=0.5,
        channel_timeout_s=2.0,
        smtp_timeout_s=2.0,
        send_lease_s=5.0,
        webhook_allow_http=True,
        webhook_allow_private=True,
        log_json=False,
    )


@pytest.fixture
async def runtime(settings: NotifierSettings, js: JetStreamContext) -> AsyncIterator[Runtime]:
    """A runtime on the migrated schema (and the test's streams created)."""
    await migrate(settings)
    runtime = Runtime(settings, Database.of(settings))
    yield runtime
    await runtime.close()

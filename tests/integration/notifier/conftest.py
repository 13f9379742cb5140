"""The notifier on the test's own stream and schema: settings, a migrated runtime, and the
whole notifier against the real billing (its own schema), the local mailbox and loopback
stand-ins of Discord and a trader's webhook receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from nats.js import JetStreamContext

from libs.common.config import Environment
from libs.common.topology import Topology
from scripts.mailbox import Mailbox
from services.notifier.app import create_app, running
from services.notifier.config import NotifierSettings
from services.notifier.runtime import Runtime
from services.notifier.store.database import Database, migrate
from tests.helpers.billing import served
from tests.helpers.namespaces import PgSchema
from tests.helpers.notifier import (
    BillingService,
    DiscordStandIn,
    Running,
    StandIns,
    WebhookReceiver,
    billing_service,
    own_schema,
)
from tests.helpers.polling import eventually
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


@pytest.fixture
async def billing(
    server_urls: ServerUrls, topology: Topology, pg_schema: PgSchema, js: JetStreamContext
) -> AsyncIterator[BillingService]:
    """The real billing on the test's namespace, in a schema of its own."""
    async with (
        own_schema(server_urls, f"{pg_schema.name}billing") as schema,
        billing_service(server_urls, topology, schema) as service,
    ):
        yield service


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[Mailbox]:
    """The local SMTP server; ``gone@example.com`` is refused with 550 (no such user)."""
    box = Mailbox(tmp_path / "mail", refuse={"gone@example.com"})
    box.start()
    yield box
    box.stop()


@pytest.fixture
async def stand_ins(billing: BillingService, mailbox: Mailbox) -> AsyncIterator[StandIns]:
    """Discord and a webhook receiver on loopback, with billing and the mailbox."""
    discord, receiver = DiscordStandIn(), WebhookReceiver()
    async with served(discord.app()) as discord_url, served(receiver.app()) as receiver_url:
        yield StandIns(discord, discord_url, receiver, receiver_url, billing, mailbox)


@pytest.fixture
async def notifier(
    settings: NotifierSettings, stand_ins: StandIns, js: JetStreamContext
) -> AsyncIterator[Running]:
    """The whole notifier (consumer, sender, API) against the stand-ins, for a tenant made
    at billing."""
    configured = settings.model_copy(
        update={
            "billing_url": stand_ins.billing.url,
            "discord_webhook_prefix": f"{stand_ins.discord_url}/api/webhooks/",
            "smtp_host": stand_ins.mailbox.host,
            "smtp_port": stand_ins.mailbox.port,
            "email_min_interval_s": 0.5,
        }
    )
    tenant_id, key = await stand_ins.billing.new_tenant()
    app = create_app(configured)
    async with running(app, configured) as runtime:
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://notifier", headers=headers
        ) as api:
            await eventually(lambda: _known(api), what="the notifier knowing the key", timeout_s=10)
            yield Running(runtime, api, tenant_id, key, stand_ins)


async def _known(api: httpx.AsyncClient) -> bool:
    return (await api.get("/api/v1/notifications/channels")).status_code == 200

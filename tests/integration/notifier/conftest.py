"""The notifier on the test's own stream and schema: settings and a migrated runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from nats.js import JetStreamContext

from libs.common.config import Environment
from libs.common.ids import new_id
from libs.common.topology import Topology
from services.notifier.app import create_app, running
from services.notifier.config import NotifierSettings
from services.notifier.database import Database, migrate
from services.notifier.runtime import Runtime
from tests.helpers.billing import served, until
from tests.helpers.executor import seed_tenant
from tests.helpers.namespaces import PgSchema
from tests.helpers.notifier import BillingKeys, DiscordStandIn, RefusingSmtp, WebhookReceiver
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


@dataclass
class StandIns:
    discord: DiscordStandIn
    discord_url: str
    receiver: WebhookReceiver
    receiver_url: str
    billing: BillingKeys
    billing_url: str
    smtp: RefusingSmtp


@pytest.fixture
async def stand_ins() -> AsyncIterator[StandIns]:
    """Discord, a webhook receiver, billing's key routes and an SMTP server, on loopback."""
    discord, receiver, billing = DiscordStandIn(), WebhookReceiver(), BillingKeys()
    smtp = RefusingSmtp(refuse={"gone@example.com"})
    smtp.start()
    try:
        async with (
            served(discord.app()) as discord_url,
            served(receiver.app()) as receiver_url,
            served(billing.app()) as billing_url,
        ):
            yield StandIns(discord, discord_url, receiver, receiver_url, billing, billing_url, smtp)
    finally:
        smtp.stop()


@dataclass
class Running:
    """A notifier running in this process, and a client of its API as one tenant."""

    runtime: Runtime
    api: httpx.AsyncClient
    tenant_id: str
    api_key: str
    stand_ins: StandIns


@pytest.fixture
async def notifier(
    settings: NotifierSettings, stand_ins: StandIns, js: JetStreamContext, topology: Topology
) -> AsyncIterator[Running]:
    """The whole notifier (consumer, sender, API) against the stand-ins."""
    configured = settings.model_copy(
        update={
            "billing_url": stand_ins.billing_url,
            "discord_webhook_prefix": f"{stand_ins.discord_url}/api/webhooks/",
            "smtp_host": "127.0.0.1",
            "smtp_port": stand_ins.smtp.port,
            "email_min_interval_s": 0.5,
        }
    )
    tenant_id = "tnotify" + new_id()[-8:].lower()
    key = await seed_tenant(js, topology, tenant_id)
    app = create_app(configured)
    async with running(app, configured) as runtime:
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://notifier", headers=headers
        ) as api:
            await until(lambda: _known(api), timeout_s=10)
            yield Running(runtime, api, tenant_id, key, stand_ins)


async def _known(api: httpx.AsyncClient) -> bool:
    return (await api.get("/api/v1/notifications/channels")).status_code == 200

"""The daily summary: yesterday's figures from the real ledger (events projected from the
tenant's EVENTS stream), read with the key the notifier holds (made at the real billing),
mailed once to the local mailbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from nats.js import JetStreamContext

from libs.common.messages import Event, Side
from libs.common.topology import Topology
from scripts.mailbox import Mailbox
from services.notifier.channels.email import EmailChannel
from services.notifier.config import NotifierSettings
from services.notifier.domain.kinds import DEFAULT_KINDS, ChannelKind
from services.notifier.runtime import Runtime
from services.notifier.sender import Sender
from services.notifier.store.channels import ACTIVE, NewChannel, insert_channel, keep_key
from services.notifier.store.database import Database
from services.notifier.summary import Summaries
from tests.helpers.ledger import Order, fill, publish
from tests.helpers.namespaces import PgSchema
from tests.helpers.notifier import BillingService, bearer, ledger_service, own_schema
from tests.helpers.polling import eventually
from tests.helpers.servers import ServerUrls

NOW = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)
DAY = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)  # the day summed up
MINUTE = timedelta(minutes=1)


def trade(tenant_id: str, at: datetime, side: Side, price: str) -> list[Event]:
    """One alert whose market order filled 1 BTC at ``price``, at ``at``."""
    order = Order(tenant_id, side=side)
    return [
        order.accepted(at=at),
        order.submitted("1", at=at),
        order.filled(fill(f"t{order.intent_id}", price, "1", at=at + MINUTE), at=at + MINUTE),
    ]


def rejected(tenant_id: str, at: datetime) -> list[Event]:
    order = Order(tenant_id)
    return [order.accepted(at=at), order.rejected(at=at)]


def story(tenant_id: str) -> list[Event]:
    """On the day: bought at 100 and sold at 112.5 (+12.5 USDT, two fills), two alerts
    rejected. The next day (not in the summary): a fill and a rejection."""
    next_day = datetime(2026, 3, 2, 0, 5, tzinfo=UTC)
    return [
        *trade(tenant_id, DAY, Side.BUY, "100"),
        *trade(tenant_id, DAY + 120 * MINUTE, Side.SELL, "112.5"),
        *rejected(tenant_id, DAY + 180 * MINUTE),
        *rejected(tenant_id, DAY + 240 * MINUTE),
        *trade(tenant_id, next_day, Side.BUY, "90"),
        *rejected(tenant_id, next_day + 10 * MINUTE),
    ]


async def test_the_daily_summary_goes_once_with_yesterdays_figures(
    *,
    runtime: Runtime,
    settings: NotifierSettings,
    billing: BillingService,
    server_urls: ServerUrls,
    topology: Topology,
    pg_schema: PgSchema,
    js: JetStreamContext,
    tmp_path: Path,
) -> None:
    tenant_id, tenant_key = await billing.new_tenant()
    other_id, _ = await billing.new_tenant("Bob")
    made = await billing.http.post(
        "/api/v1/api-keys", json={"label": "notifier"}, headers=bearer(tenant_key)
    )  # as the notifier makes its key when the tenant adds a channel
    assert made.status_code == 201, made.text
    key_id, kept = made.json()["api_key"]["key_id"], made.json()["key"]
    mailbox = Mailbox(tmp_path / "mail")
    mailbox.start()
    try:
        async with (
            own_schema(server_urls, f"{pg_schema.name}ledger") as schema,
            ledger_service(server_urls, topology, schema) as ledger_url,
        ):
            # Another tenant's busy day first: none of it may reach this tenant's summary.
            await publish(js, topology, [*story(other_id), *rejected(other_id, DAY)])
            await publish(js, topology, story(tenant_id))
            await _projected(ledger_url, kept)
            configured = settings.model_copy(
                update={
                    "ledger_url": ledger_url,
                    "smtp_host": mailbox.host,
                    "smtp_port": mailbox.port,
                }
            )
            rt = Runtime(configured, Database.of(configured), clock=lambda: NOW)
            rt.register(EmailChannel(rt))
            try:
                await _check(rt, mailbox, tenant_id, key_id, kept)
            finally:
                await rt.close()
    finally:
        mailbox.stop()


async def _projected(ledger_url: str, key: str) -> None:
    """Wait until the ledger knows the key and has projected the tenant's last alert."""

    async def done() -> bool:
        async with httpx.AsyncClient(base_url=ledger_url, headers=bearer(key)) as http:
            answer = await http.get("/api/v1/alerts", params={"limit": "200"})
        return answer.status_code == 200 and len(answer.json()["alerts"]) == 6

    await eventually(done, what="the tenant's six alerts in the ledger", timeout_s=30)


async def _check(rt: Runtime, mailbox: Mailbox, tenant_id: str, key_id: str, key: str) -> None:
    new = NewChannel(
        kind=ChannelKind.EMAIL,
        address="daily@example.com",
        masked="daily@example.com",
        events=DEFAULT_KINDS,
        daily_summary=True,
        status=ACTIVE,
    )
    async with rt.db.as_tenant(tenant_id) as conn:
        channel = await insert_channel(conn, rt.box, tenant_id, new, NOW)
        await keep_key(conn, rt.box, tenant_id, key_id=key_id, key=key, now=NOW)
    assert channel is not None
    summaries = Summaries(rt)
    assert await summaries.run_once() == 1
    assert await summaries.run_once() == 0  # once per day and channel
    result = await Sender(rt).send_one(channel.channel_id)
    assert result is not None
    assert result.outcome.value == "sent"
    mail = await mailbox.until("daily@example.com", "Daily summary for 2026-03-01", timeout_s=10)
    lines = set(mail.text.splitlines())
    assert {"Fills: 2", "Realized PnL: +12.5 USDT", "Rejected: 2"} <= lines  # the day's only
    assert len(mailbox.to("daily@example.com")) == 1
    assert key not in mail.path.read_text()

"""Steps the notifier's tests share: publish events, add and verify channels through the API."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import httpx
import sqlalchemy as sa
from nats.js import JetStreamContext

from libs.common.ids import new_id
from libs.common.messages.enums import Side
from libs.common.messages.events import OrderFilled, OrderRejected
from libs.common.topology import Topology
from scripts.mailbox import Mailbox
from services.notifier.runtime import Runtime
from services.notifier.store.tables import channels, deliveries
from tests import factories
from tests.helpers.notifier import DiscordStandIn, WebhookReceiver
from tests.helpers.polling import eventually

CODE = re.compile(r"\b(\d{6})\b")
CHANNELS = "/api/v1/notifications/channels"


def order_filled(tenant_id: str, symbol: str = "BTCUSDT", amount: str = "0.1") -> OrderFilled:
    fields = factories._order_fields(tenant_id) | {"symbol": symbol, "side": Side.BUY}  # noqa: SLF001
    fill = factories.fill(amount=Decimal(amount), price=Decimal(60000))
    return OrderFilled(**fields, exchange_order_id=new_id(), fills=(fill,))


def order_rejected(tenant_id: str, reason: str) -> OrderRejected:
    return OrderRejected(**factories._order_fields(tenant_id), reason=reason)  # noqa: SLF001


async def publish(
    js: JetStreamContext, topology: Topology, event: Any, msg_id: str | None = None
) -> None:
    subject = topology.event_subject(event.tenant_id, event.kind)
    headers = {"Nats-Msg-Id": msg_id or event.message_id}
    await js.publish(subject, event.to_json(), headers=headers)


async def add(api: httpx.AsyncClient, kind: str, target: str, **extra: Any) -> dict[str, Any]:
    response = await api.post(CHANNELS, json={"kind": kind, "target": target, **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def verify(api: httpx.AsyncClient, channel_id: str, code: str) -> dict[str, Any]:
    response = await api.post(f"{CHANNELS}/{channel_id}/verify", json={"code": code})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "active"
    return body


async def discord_code(discord: DiscordStandIn, hook: str) -> str:
    await eventually(lambda: bool(discord.to(hook)), what="bool(discord.to(hook))", timeout_s=10)
    found = CODE.search(discord.to(hook)[-1].content)
    assert found is not None
    return found.group(1)


async def webhook_code(receiver: WebhookReceiver, name: str) -> str:
    await eventually(
        lambda: bool(receiver.received[name]), what="bool(receiver.received[name])", timeout_s=10
    )
    body = receiver.received[name][-1].body
    assert body["type"] == "verification"
    return str(body["code"])


async def email_code(mailbox: Mailbox, address: str) -> str:
    mail = await mailbox.until(address, "verification", timeout_s=10)
    found = CODE.search(mail.text)
    assert found is not None
    return found.group(1)


async def sent_count(runtime: Runtime, channel_id: str) -> int:
    async with runtime.db.as_writer() as conn:
        found = await conn.scalar(
            sa.select(sa.func.count()).where(
                deliveries.c.channel_id == channel_id, deliveries.c.state == "sent"
            )
        )
    return int(found or 0)


async def all_sent(runtime: Runtime, channel_id: str, count: int, timeout_s: float = 60) -> None:
    async def done() -> bool:
        return await sent_count(runtime, channel_id) >= count

    await eventually(
        done, what=f"{count} deliveries of channel {channel_id} sent", timeout_s=timeout_s
    )


async def status_of(runtime: Runtime, channel_id: str) -> tuple[str, str | None]:
    async with runtime.db.as_writer() as conn:
        row = (
            await conn.execute(
                sa.select(channels.c.status, channels.c.dead_reason).where(
                    channels.c.channel_id == channel_id
                )
            )
        ).one()
    return row.status, row.dead_reason

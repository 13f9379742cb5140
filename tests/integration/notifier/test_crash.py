"""Crash the notifier process (SIGKILL) in the middle of a burst and start it again.

What must hold, and what the test allows, honestly: every event reaches the trader's webhook
(nothing lost); no event arrives in two different messages (nothing sent twice), except that
the one message in flight when the process died (posted, but not yet recorded as sent) may
arrive again, **with the same ``Sparky-Delivery`` id** and the same events, which a receiver
drops. So: at most one delivery id is received more than once, and after dropping repeats of a
delivery id, every event was received exactly once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from nats.js import JetStreamContext

from libs.common.messages.events import OrderFilled
from libs.common.topology import Topology
from scripts.devstack import ServiceProcess
from tests.helpers.billing import served
from tests.helpers.namespaces import PgSchema
from tests.helpers.notifier import BillingService, WebhookReceiver
from tests.helpers.notifier_flow import CHANNELS, order_filled, publish, webhook_code
from tests.helpers.polling import eventually
from tests.helpers.servers import ServerUrls
from tests.helpers.stack import one_service

BURST = 600


@contextmanager
def notifier_process(process: ServiceProcess) -> Iterator[ServiceProcess]:
    process.start()
    try:
        yield process
    finally:
        process.stop()


async def test_a_killed_notifier_loses_nothing_and_repeats_at_most_the_message_in_flight(
    *,
    server_urls: ServerUrls,
    pg_schema: PgSchema,
    js: JetStreamContext,
    topology: Topology,
    tmp_path: Path,
    billing: BillingService,
) -> None:
    receiver = WebhookReceiver(delay_s=0.05)
    tenant_id, key = await billing.new_tenant()
    settings = {
        "log_json": "false",
        "database_url": pg_schema.url,
        "database_schema": pg_schema.name,
        "billing_url": billing.url,
        "channel_timeout_s": 1,
        "smtp_timeout_s": 1,
        "send_lease_s": 3,
        "sender_poll_s": 0.05,
        "coalesce_max": 20,  # many messages, so the kill lands mid-burst
    }
    notifier = one_service(
        "notifier", tmp_path, settings, namespace=topology.namespace, urls=server_urls
    )
    url = notifier.url
    async with served(receiver.app()) as receiver_url:
        auth = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=url, headers=auth) as api:
            with notifier_process(notifier) as first:
                await asyncio.to_thread(first.wait_ready)
                await eventually(
                    lambda: _authenticated(api), what="the notifier knowing the key", timeout_s=10
                )
                created = (
                    await api.post(
                        CHANNELS, json={"kind": "webhook", "target": f"{receiver_url}/hooks/c"}
                    )
                ).json()
                receiver.secrets["c"] = created["signing_secret"]
                code = await webhook_code(receiver, "c")
                verified = await api.post(f"{CHANNELS}/{created['id']}/verify", json={"code": code})
                assert verified.status_code == 200
                fills = [order_filled(tenant_id, "BTCUSDT", "0.001") for _ in range(BURST)]
                for fill in fills:
                    await publish(js, topology, fill)
                await eventually(
                    lambda: _events_received(receiver) >= BURST // 5,
                    what="a fifth of the burst delivered",
                    timeout_s=60,
                )
                first.kill()
            assert _events_received(receiver) < BURST  # the kill landed mid-burst
            with notifier_process(notifier):
                # An interrupted message goes first after the restart, so once every event
                # is in, any repeat has arrived too.
                await eventually(
                    lambda: _all_in(receiver, fills), what="_all_in(receiver, fills)", timeout_s=90
                )
    messages = receiver.received["c"][1:]  # after the verification
    repeats = [d for d, n in Counter(m.delivery_id for m in messages).items() if n > 1]
    assert len(repeats) <= 1, repeats
    first_of: dict[str, list[str]] = {}
    for m in messages:
        events = [e["event_id"] for e in m.body["events"]]
        if m.delivery_id in first_of:
            assert first_of[m.delivery_id] == events  # a repeat is the same message
            continue
        first_of[m.delivery_id] = events
    delivered = [e for events in first_of.values() for e in events]
    assert sorted(delivered) == sorted(f.message_id for f in fills)  # exactly once each
    assert receiver.bad_signatures == 0
    text = notifier.log()
    assert key not in text
    assert created["signing_secret"] not in text


async def _authenticated(api: httpx.AsyncClient) -> bool:
    return (await api.get(CHANNELS)).status_code == 200


def _events_received(receiver: WebhookReceiver) -> int:
    return sum(len(m.body.get("events", [])) for m in receiver.received["c"][1:])


def _all_in(receiver: WebhookReceiver, fills: list[OrderFilled]) -> bool:
    got = {e["event_id"] for m in receiver.received["c"][1:] for e in m.body["events"]}
    return got >= {f.message_id for f in fills}


pytestmark = pytest.mark.timeout(300)

"""Crash the notifier process (SIGKILL) in the middle of a burst and start it again.

What must hold, and what the test allows, honestly: every event reaches the trader's webhook
(nothing lost); no event arrives in two different messages (nothing sent twice), except that
the one message in flight when the process died (posted, but not yet recorded as sent) may
arrive again, **with the same ``Sparky-Delivery`` id** and the same events, which a receiver
drops. So: at most one delivery id is received more than once, and after dropping repeats of a
delivery id, every event was received exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from nats.js import JetStreamContext

from libs.common.messages.events import OrderFilled
from libs.common.topology import Topology
from tests.helpers.billing import served
from tests.helpers.namespaces import PgSchema
from tests.helpers.notifier import BillingService, WebhookReceiver
from tests.helpers.notifier_flow import CHANNELS, order_filled, publish, webhook_code
from tests.helpers.polling import eventually
from tests.helpers.ports import free_port
from tests.helpers.servers import ServerUrls

BURST = 600


@contextmanager
def notifier_process(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.notifier"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=20)


async def _ready(url: str) -> bool:
    try:
        async with httpx.AsyncClient() as http:
            return (await http.get(f"{url}/readyz")).status_code == 200
    except httpx.HTTPError:
        return False


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
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "notifier.log"
    async with served(receiver.app()) as receiver_url:
        env = {
            **os.environ,
            "SPARKY_ENVIRONMENT": "test",
            "SPARKY_NAMESPACE": topology.namespace,
            "SPARKY_NATS_URL": server_urls.nats,
            "SPARKY_LOG_JSON": "false",
            "SPARKY_NOTIFIER_HTTP_PORT": str(port),
            "SPARKY_NOTIFIER_DATABASE_URL": pg_schema.url,
            "SPARKY_NOTIFIER_DATABASE_SCHEMA": pg_schema.name,
            "SPARKY_NOTIFIER_BILLING_URL": billing.url,
            "SPARKY_NOTIFIER_WEBHOOK_ALLOW_HTTP": "true",
            "SPARKY_NOTIFIER_WEBHOOK_ALLOW_PRIVATE": "true",
            "SPARKY_NOTIFIER_CHANNEL_TIMEOUT_S": "1",
            "SPARKY_NOTIFIER_SMTP_TIMEOUT_S": "1",
            "SPARKY_NOTIFIER_SEND_LEASE_S": "3",
            "SPARKY_NOTIFIER_SENDER_POLL_S": "0.05",
            "SPARKY_NOTIFIER_COALESCE_MAX": "20",  # many messages, so the kill lands mid-burst
        }
        auth = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=url, headers=auth) as api:
            with notifier_process(env, log) as first:
                await eventually(lambda: _ready(url), what="the notifier ready", timeout_s=60)
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
                    what="_events_received(receiver) >= BURST // 5",
                    timeout_s=60,
                )
                first.send_signal(signal.SIGKILL)
                first.wait(timeout=10)
            assert _events_received(receiver) < BURST  # the kill landed mid-burst
            with notifier_process(env, log):
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
    text = log.read_text()
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

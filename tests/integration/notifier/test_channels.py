"""The notifier end to end in process: real NATS, Postgres and billing (which makes and revokes
the notifier's own key), mail to the local mailbox (`scripts.mailbox`), and loopback stand-ins
speaking Discord's webhook API and a trader's signature-checking receiver."""

from __future__ import annotations

import itertools
import logging
import re

import pytest
import sqlalchemy as sa
from nats.js import JetStreamContext

from libs.common.topology import Topology
from services.notifier.store import channels as store
from services.notifier.store.tables import deliveries, tenant_keys
from tests.helpers.notifier import Running
from tests.helpers.notifier_flow import (
    CHANNELS,
    add,
    all_sent,
    discord_code,
    email_code,
    order_filled,
    order_rejected,
    publish,
    status_of,
    verify,
    webhook_code,
)
from tests.helpers.polling import eventually

FOLDED = re.compile(r"(\d+) orders filled")
STAND_IN_LOGGERS = {"uvicorn.access", "mail.log"}  # the stand-ins' own request logs


async def _discord(n: Running, hook: str) -> str:
    url = f"{n.stand_ins.discord_url}/api/webhooks/{hook}/tok{hook}secretpart"
    channel = await add(n.api, "discord", url)
    assert channel["target"].endswith("art")
    assert "secretpart" not in channel["target"]
    await verify(n.api, channel["id"], await discord_code(n.stand_ins.discord, hook))
    return str(channel["id"])


async def _webhook(n: Running, name: str) -> str:
    channel = await add(n.api, "webhook", f"{n.stand_ins.receiver_url}/hooks/{name}")
    n.stand_ins.receiver.secrets[name] = channel["signing_secret"]
    await verify(n.api, channel["id"], await webhook_code(n.stand_ins.receiver, name))
    return str(channel["id"])


async def _email(n: Running, address: str) -> str:
    channel = await add(n.api, "email", address)
    await verify(n.api, channel["id"], await email_code(n.stand_ins.mailbox, address))
    return str(channel["id"])


async def test_a_fill_produces_exactly_one_message_per_channel(
    notifier: Running, js: JetStreamContext, topology: Topology, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    n = notifier
    discord_id = await _discord(n, "d1")
    webhook_id = await _webhook(n, "w1")
    email_id = await _email(n, "trader@example.com")
    fill = order_filled(n.tenant_id, "BTCUSDT", "0.1")
    await publish(js, topology, fill)
    await publish(js, topology, fill, msg_id="a-redelivery")  # the same event, past NATS' dedup
    later = order_filled(n.tenant_id, "ETHUSDT", "2")
    await publish(js, topology, later)
    for channel_id in (discord_id, webhook_id, email_id):
        await all_sent(n.runtime, channel_id, 3)  # verification + the two fills
    discord = [p.content for p in n.stand_ins.discord.to("d1")][1:]
    events = [
        e["event_id"] for r in n.stand_ins.receiver.received["w1"][1:] for e in r.body["events"]
    ]
    mails = n.stand_ins.mailbox.to("trader@example.com")[1:]
    assert sum("BTCUSDT" in c for c in discord) == 1
    assert sorted(events) == sorted([fill.message_id, later.message_id])
    assert sum("BTCUSDT" in m.subject + m.text for m in mails) == 1
    assert n.stand_ins.receiver.bad_signatures == 0
    # The notifier made and keeps its own key: billing made it for the caller's tenant.
    kept = await _kept(n)
    assert kept is not None
    keys = {k["key_id"]: k for k in await n.stand_ins.billing.keys(n.api_key)}
    assert len(keys) == 2  # the tenant's own and the notifier's
    assert (keys[kept[0]]["label"], keys[kept[0]]["state"]) == ("notifier", "active")
    assert await n.stand_ins.billing.tenant_of(kept[1]) == n.tenant_id
    async with n.runtime.db.as_writer() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(tenant_keys)) == 1
    # No secret leaks: not in the notifier's logs, nor in any message (the whole mail files).
    secrets = ["tokd1secretpart", n.api_key, kept[1], n.stand_ins.receiver.secrets["w1"]]
    ours = [r.getMessage() for r in caplog.records if r.name not in STAND_IN_LOGGERS]
    raw_mails = [m.path.read_text() for m in n.stand_ins.mailbox.messages()]
    everything = "".join(ours) + "".join(discord) + "".join(raw_mails)
    assert not [s for s in secrets if s in everything]


async def _kept(n: Running) -> tuple[str, str] | None:
    """The ``(key_id, key)`` the notifier holds for the test's tenant."""
    async with n.runtime.db.as_writer() as conn:
        return await store.kept_key(conn, n.runtime.box, n.tenant_id)


async def test_a_burst_of_1000_fills_is_coalesced_within_the_limits_and_loses_none(
    notifier: Running, js: JetStreamContext, topology: Topology
) -> None:
    n = notifier
    discord_id = await _discord(n, "burst")
    webhook_id = await _webhook(n, "burst")
    fills = [order_filled(n.tenant_id, "BTCUSDT", "0.001") for _ in range(1000)]
    for fill in fills:
        await publish(js, topology, fill)
    await all_sent(n.runtime, discord_id, 1001, timeout_s=120)
    await all_sent(n.runtime, webhook_id, 1001, timeout_s=120)
    posts = n.stand_ins.discord.to("burst")[1:]
    folded = sum(int(m.group(1)) if (m := FOLDED.search(p.content)) else 1 for p in posts)
    assert folded == 1000
    assert len(posts) < 100  # coalesced, not one per fill
    assert n.stand_ins.discord.refused == []  # never rate limited: the limits were respected
    gaps = [b.at - a.at for a, b in itertools.pairwise(posts)]
    assert min(gaps, default=1.0) >= 0.45
    received = n.stand_ins.receiver.received["burst"][1:]
    ids = [e["event_id"] for r in received for e in r.body["events"]]
    assert sorted(ids) == sorted(f.message_id for f in fills)  # none lost, none twice
    assert len({r.delivery_id for r in received}) == len(received)


async def test_a_channel_answering_403_is_marked_dead_and_not_retried(
    notifier: Running, js: JetStreamContext, topology: Topology
) -> None:
    n = notifier
    channel_id = await _discord(n, "gone")
    n.stand_ins.discord.faults["gone"] = [403]
    await publish(js, topology, order_rejected(n.tenant_id, "insufficient margin"))

    async def dead() -> bool:
        return (await status_of(n.runtime, channel_id))[0] == "dead"

    await eventually(dead, what="the channel dead", timeout_s=10)
    listed = (await n.api.get(CHANNELS)).json()["channels"]
    assert listed[0]["status"] == "dead"
    assert "403" in listed[0]["dead_reason"]
    await publish(js, topology, order_rejected(n.tenant_id, "again"))
    other = await _webhook(n, "after")  # a later event reaches the live channel, not the dead
    await publish(js, topology, order_rejected(n.tenant_id, "third"))
    await all_sent(n.runtime, other, 2)
    assert n.stand_ins.discord.refused == [("gone", 403)]
    async with n.runtime.db.as_writer() as conn:
        waiting = await conn.scalar(
            sa.select(sa.func.count()).where(
                deliveries.c.channel_id == channel_id,
                deliveries.c.state.in_(["pending", "sending"]),
            )
        )
    assert waiting == 0


async def test_a_429_is_retried_after_its_retry_after_and_sent_once(
    notifier: Running, js: JetStreamContext, topology: Topology
) -> None:
    n = notifier
    channel_id = await _discord(n, "busy")
    n.stand_ins.discord.faults["busy"] = [429, 500]
    await publish(js, topology, order_rejected(n.tenant_id, "price moved"))
    await all_sent(n.runtime, channel_id, 2, timeout_s=20)
    assert [p for p in n.stand_ins.discord.to("busy") if "price moved" in p.content]
    assert len(n.stand_ins.discord.to("busy")) == 2
    assert (await status_of(n.runtime, channel_id))[0] == "active"


async def test_a_webhook_answering_410_and_an_address_refused_with_550_die(
    notifier: Running, js: JetStreamContext, topology: Topology
) -> None:
    n = notifier
    webhook_id = await _webhook(n, "w410")
    n.stand_ins.receiver.answer["w410"] = 410
    gone = await add(n.api, "email", "gone@example.com")  # its code is refused: 550

    async def both_dead() -> bool:
        return (await status_of(n.runtime, gone["id"]))[0] == "dead" and (
            await status_of(n.runtime, webhook_id)
        )[0] == "dead"

    await publish(js, topology, order_rejected(n.tenant_id, "x"))
    await eventually(both_dead, what="both channels dead", timeout_s=10)
    assert "550" in ((await status_of(n.runtime, gone["id"]))[1] or "")


async def test_wrong_codes_are_refused_and_run_out(notifier: Running) -> None:
    n = notifier
    channel = await add(n.api, "discord", f"{n.stand_ins.discord_url}/api/webhooks/v/tok")
    code = await discord_code(n.stand_ins.discord, "v")
    wrong = "000000" if code != "000000" else "111111"
    url = f"{CHANNELS}/{channel['id']}/verify"
    answers = [(await n.api.post(url, json={"code": wrong})).status_code for _ in range(5)]
    last = await n.api.post(url, json={"code": code})
    assert answers == [422] * 5
    assert last.status_code == 422
    assert "tries" in last.json()["error"]


async def test_bad_requests_get_clear_answers(notifier: Running) -> None:
    n = notifier
    cases = [
        ({"kind": "discord", "target": "https://evil.example/api/webhooks/1/x"}, 422),
        ({"kind": "email", "target": "not-an-address"}, 422),
        ({"kind": "webhook", "target": "ftp://x.example/hook"}, 422),
        ({"kind": "telegram", "target": "123"}, 422),
        ({"kind": "discord", "target": "x", "extra": 1}, 422),
    ]
    for body, expected in cases:
        response = await n.api.post(CHANNELS, json=body)
        assert response.status_code == expected, body
        assert response.json()["error"]
    missing = await n.api.delete(f"{CHANNELS}/01HZZZZZZZZZZZZZZZZZZZZZZZ")
    assert missing.status_code == 404
    unauthenticated = await n.api.get(CHANNELS, headers={"Authorization": "Bearer spk_nope"})
    assert unauthenticated.status_code == 401


async def test_deleting_the_last_channel_revokes_the_kept_key(notifier: Running) -> None:
    n = notifier
    first = await add(n.api, "webhook", f"{n.stand_ins.receiver_url}/hooks/del")
    second = await add(n.api, "webhook", f"{n.stand_ins.receiver_url}/hooks/del2")
    kept = await _kept(n)
    assert kept is not None
    key_id, key = kept
    assert await n.stand_ins.billing.tenant_of(key) == n.tenant_id
    assert (await n.api.delete(f"{CHANNELS}/{first['id']}")).status_code == 204
    assert await _kept(n) == kept  # a channel is left: the key stays
    assert await n.stand_ins.billing.tenant_of(key) == n.tenant_id
    assert (await n.api.delete(f"{CHANNELS}/{second['id']}")).status_code == 204
    assert await _kept(n) is None
    states = {k["key_id"]: k["state"] for k in await n.stand_ins.billing.keys(n.api_key)}
    assert states[key_id] == "revoked"

    async def refused() -> bool:
        return await n.stand_ins.billing.tenant_of(key) is None

    # billing's copy of the api-keys bucket follows
    await eventually(refused, what="the revoked key refused", timeout_s=10)
    assert await n.stand_ins.billing.tenant_of(n.api_key) == n.tenant_id  # the caller's stays


async def test_a_quiet_channel_gets_problems_only_and_a_test_message_on_demand(
    notifier: Running, js: JetStreamContext, topology: Topology
) -> None:
    n = notifier
    channel_id = await _webhook(n, "quiet")
    changed = await n.api.patch(f"{CHANNELS}/{channel_id}", json={"quiet": True})
    assert changed.status_code == 200
    assert changed.json()["quiet"] is True
    fill = order_filled(n.tenant_id)
    rejected = order_rejected(n.tenant_id, "kill switch is on")
    await publish(js, topology, fill)
    await publish(js, topology, rejected)
    tested = await n.api.post(f"{CHANNELS}/{channel_id}/test")
    assert tested.status_code == 202
    await all_sent(n.runtime, channel_id, 3)  # verification, the rejection, the test
    bodies = [r.body for r in n.stand_ins.receiver.received["quiet"][1:]]
    kinds = sorted(e["kind"] for b in bodies for e in b.get("events", []))
    assert kinds == ["channel.test", "order.rejected"]
    async with n.runtime.db.as_writer() as conn:
        state = await conn.scalar(
            sa.select(deliveries.c.state).where(deliveries.c.event_id == fill.message_id)
        )
    assert state == "dropped"
    daily = await n.api.patch(f"{CHANNELS}/{channel_id}", json={"daily_summary": True})
    assert daily.status_code == 422  # email only

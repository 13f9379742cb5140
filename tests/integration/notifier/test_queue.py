"""Delivery rows on real Postgres: exactly once per (event, channel), claims and settling."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from libs.common.ids import new_id
from libs.common.messages.types import utcnow
from services.notifier.domain.kinds import DEFAULT_KINDS, ChannelKind
from services.notifier.domain.notices import Notice
from services.notifier.runtime import Runtime
from services.notifier.store import deliveries as queue
from services.notifier.store.channels import ACTIVE, NewChannel, insert_channel, list_channels
from services.notifier.store.tables import channels, deliveries


def _notice(tenant: str) -> Notice:
    return Notice(
        event_id=new_id(),
        tenant_id=tenant,
        kind="order.filled",
        occurred_at=utcnow(),
        title="Order filled",
        summary="BTCUSDT buy 0.1 @ 60000",
        short="BTCUSDT +0.1",
    )


async def _channel(runtime: Runtime, tenant: str) -> str:
    new = NewChannel(
        kind=ChannelKind.WEBHOOK,
        address="http://127.0.0.1:1/hook",
        masked="127.0.0.1/hook",
        events=DEFAULT_KINDS,
        status=ACTIVE,
        secret="s3cret",
    )
    async with runtime.db.as_tenant(tenant) as conn:
        record = await insert_channel(conn, runtime.box, tenant, new, utcnow())
    assert record is not None
    return record.channel_id


async def test_the_same_event_twice_makes_one_delivery(runtime: Runtime) -> None:
    channel_id = await _channel(runtime, "t1")
    notice = _notice("t1")
    async with runtime.db.as_writer() as conn:
        first = await queue.enqueue(conn, [queue.delivery_row(channel_id, notice, utcnow())])
        again = await queue.enqueue(conn, [queue.delivery_row(channel_id, notice, utcnow())])
    assert (first, again) == (1, 0)


async def test_a_claim_takes_every_due_row_once_and_a_resend_keeps_its_send_id(
    runtime: Runtime,
) -> None:
    channel_id = await _channel(runtime, "t1")
    now = utcnow()
    async with runtime.db.as_writer() as conn:
        rows = [queue.delivery_row(channel_id, _notice("t1"), now) for _ in range(5)]
        await queue.enqueue(conn, rows)
        claim = await queue.claim(conn, channel_id, now, lease_s=5, max_notices=lambda _r: 50)
    assert claim is not None
    assert len(claim.notices) == 5
    assert not claim.resend
    async with runtime.db.as_writer() as conn:  # leased: nobody else takes it
        assert (
            await queue.claim(conn, channel_id, now, lease_s=5, max_notices=lambda _r: 50) is None
        )
    later = now + timedelta(seconds=6)  # the sender died: the lease ran out
    async with runtime.db.as_writer() as conn:
        again = await queue.claim(conn, channel_id, later, lease_s=5, max_notices=lambda _r: 50)
    assert again is not None
    assert again.resend
    assert again.send_id == claim.send_id
    async with runtime.db.as_writer() as conn:
        await queue.settle_sent(conn, again, later, min_interval_s=1.0)
        assert (
            await queue.claim(conn, channel_id, later, lease_s=5, max_notices=lambda _r: 50) is None
        )
        states = await conn.execute(sa.select(deliveries.c.state))
        assert queue.states(states) == {"sent": 5}


async def test_a_tenant_sees_only_its_own_channels(runtime: Runtime) -> None:
    await _channel(runtime, "t1")
    await _channel(runtime, "t2")
    async with runtime.db.as_tenant("t1") as conn:
        mine = await list_channels(conn, "t1")
        theirs = await list_channels(conn, "t2")
        unfiltered = await conn.scalar(sa.select(sa.func.count()).select_from(channels))
    assert len(mine) == 1
    assert theirs == []
    assert unfiltered == 1

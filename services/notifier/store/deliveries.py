"""The deliveries: one row per (event, channel), and how the sender takes and settles them.

A row goes ``pending → sending → sent``, or ``→ dead`` (the channel died, or it was given
up), or is written ``dropped`` (a known event the channel does not want). Exactly once:

- the consumer inserts rows with ``ON CONFLICT (event_id, channel_id) DO NOTHING``, in the
  batch's transaction, so a redelivered batch adds nothing;
- the sender *claims* a channel's due rows in one transaction (the channel row locked with
  ``SKIP LOCKED``, a lease set on it, the rows marked ``sending`` under one ``send_id``) and
  commits **before** the send; after the send it settles them in another transaction;
- a claim finds rows still ``sending`` (the process died between its two commits, or the send
  failed and is retried) and sends those again, alone and under the same ``send_id``.

So the only message that can go out twice is the one in flight when the process died (sent,
but not yet settled): it goes out again with the same ``send_id``, which the outbound webhook
carries as ``Sparky-Delivery`` and Discord in the message's footer, for receivers to drop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.common.ids import new_id
from services.notifier.domain.notices import Notice
from services.notifier.store.tables import channels, deliveries

PENDING, SENDING, SENT, DEAD, DROPPED = "pending", "sending", "sent", "dead", "dropped"
WAITING = (PENDING, SENDING)
URGENT = 0  # verification and test messages: alone, ahead of the rest, past the rate limit
NORMAL = 1


def delivery_row(
    channel_id: str, notice: Notice, now: datetime, *, state: str = PENDING, priority: int = NORMAL
) -> dict[str, Any]:
    """Return the row of ``notice`` for ``channel_id``."""
    return {
        "delivery_id": new_id(),
        "tenant_id": notice.tenant_id,
        "channel_id": channel_id,
        "event_id": notice.event_id,
        "kind": notice.kind,
        "notice": notice.model_dump(mode="json"),
        "state": state,
        "priority": priority,
        "attempts": 0,
        "occurred_at": notice.occurred_at,
        "created_at": now,
    }


async def enqueue(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> int:
    """Insert ``rows``, skipping (event, channel) pairs already there; return how many new."""
    if not rows:
        return 0
    statement = (
        insert(deliveries).values(list(rows)).on_conflict_do_nothing(constraint="deliveries_once")
    )
    return (await conn.execute(statement)).rowcount


@dataclass(frozen=True, slots=True)
class Claim:
    """Rows taken for one message to one channel."""

    send_id: str
    channel: Any  # the channel row (sealed target included)
    delivery_ids: tuple[str, ...]
    notices: tuple[Notice, ...]
    oldest: datetime
    resend: bool  # rows left ``sending`` by an earlier attempt

    @property
    def coalesced(self) -> bool:
        return len(self.notices) > 1


def _waiting(*, urgent: bool, states: tuple[str, ...] = WAITING) -> sa.ColumnElement[bool]:
    condition = sa.and_(
        deliveries.c.channel_id == channels.c.channel_id, deliveries.c.state.in_(states)
    )
    if urgent:
        condition = sa.and_(condition, deliveries.c.priority == URGENT)
    return sa.exists().where(condition)


async def due_channels(conn: AsyncConnection, now: datetime, limit: int) -> list[str]:
    """Return channels with something to send now, not leased by a sender: past their gate
    (rate limit, backoff) with anything waiting, or holding a fresh urgent message (sent past
    the rate limit); a channel awaiting verification sends urgent messages only."""
    free = sa.or_(channels.c.lease_until.is_(None), channels.c.lease_until <= now)
    open_gate = channels.c.next_send_at <= now
    due = sa.or_(
        sa.and_(channels.c.status == "active", open_gate, _waiting(urgent=False)),
        sa.and_(channels.c.status != "dead", open_gate, _waiting(urgent=True)),
        sa.and_(channels.c.status != "dead", _waiting(urgent=True, states=(PENDING,))),
    )
    statement = (
        sa.select(channels.c.channel_id)
        .where(free, due)
        .order_by(channels.c.next_send_at)
        .limit(limit)
    )
    return list((await conn.scalars(statement)).all())


async def claim(
    conn: AsyncConnection,
    channel_id: str,
    now: datetime,
    *,
    lease_s: float,
    max_notices: Callable[[Any], int],
) -> Claim | None:
    """Take what ``channel_id`` should send now, leasing the channel; None if another
    sender holds it or nothing is due. Commit before sending."""
    free = sa.or_(channels.c.lease_until.is_(None), channels.c.lease_until <= now)
    channel = (
        await conn.execute(
            sa.select(channels)
            .where(channels.c.channel_id == channel_id, free, channels.c.status != "dead")
            .with_for_update(skip_locked=True)
        )
    ).first()
    if channel is None:
        return None
    rows = await _take(conn, channel, now, max_notices(channel))
    if not rows:
        return None
    resend = rows[0].state == SENDING
    send_id = rows[0].send_id if resend else new_id()
    ids = tuple(row.delivery_id for row in rows)
    await conn.execute(
        deliveries.update()
        .where(deliveries.c.delivery_id.in_(ids))
        .values(state=SENDING, send_id=send_id, attempts=deliveries.c.attempts + 1)
    )
    await conn.execute(
        channels.update()
        .where(channels.c.channel_id == channel_id)
        .values(lease_until=now + timedelta(seconds=lease_s))
    )
    notices = tuple(Notice.model_validate(row.notice) for row in rows)
    oldest = min(row.created_at for row in rows)
    return Claim(send_id, channel, ids, notices, oldest, resend)


async def _take(conn: AsyncConnection, channel: Any, now: datetime, max_notices: int) -> list[Any]:
    waiting = (
        sa.select(deliveries)
        .where(deliveries.c.channel_id == channel.channel_id, deliveries.c.state.in_(WAITING))
        .order_by(
            # A message interrupted (or failed) goes again first, as it was.
            sa.case((deliveries.c.state == SENDING, 0), else_=1),
            deliveries.c.priority,
            deliveries.c.created_at,
            deliveries.c.delivery_id,
        )
        .limit(max_notices)
    )
    rows = list(await conn.execute(waiting))
    if not rows:
        return []
    gate_open = channel.next_send_at <= now
    first = rows[0]
    if first.state == SENDING and gate_open:
        return [row for row in rows if row.state == SENDING and row.send_id == first.send_id]
    fresh_urgent = [row for row in rows if row.state == PENDING and row.priority == URGENT]
    if fresh_urgent:
        return fresh_urgent[:1]
    if first.state == SENDING or channel.status != "active" or not gate_open:
        return []
    return [row for row in rows if row.priority != URGENT]


async def settle_sent(
    conn: AsyncConnection, claim: Claim, now: datetime, *, min_interval_s: float
) -> None:
    """The message went out: its rows are sent; the channel may send again after its limit."""
    await conn.execute(
        deliveries.update()
        .where(deliveries.c.delivery_id.in_(claim.delivery_ids))
        .values(state=SENT, sent_at=now, last_error=None)
    )
    await _release(conn, claim, next_send_at=now + timedelta(seconds=min_interval_s), failures=0)


async def settle_retry(
    conn: AsyncConnection, claim: Claim, now: datetime, *, after_s: float, error: str
) -> None:
    """The message did not go out: keep its rows ``sending`` (sent again as they are) and
    close the channel's gate for ``after_s``."""
    await conn.execute(
        deliveries.update()
        .where(deliveries.c.delivery_id.in_(claim.delivery_ids))
        .values(last_error=error[:300])
    )
    await _release(
        conn,
        claim,
        next_send_at=now + timedelta(seconds=after_s),
        failures=channels.c.failures + 1,
    )


async def settle_given_up(conn: AsyncConnection, claim: Claim, now: datetime, error: str) -> None:
    """Give the message up (it kept failing too long); the channel goes on."""
    await conn.execute(
        deliveries.update()
        .where(deliveries.c.delivery_id.in_(claim.delivery_ids))
        .values(state=DEAD, last_error=error[:300])
    )
    await _release(conn, claim, next_send_at=now, failures=0)


async def settle_dead(conn: AsyncConnection, channel_id: str, error: str) -> int:
    """The channel is dead: none of its waiting rows will ever go; return how many."""
    result = await conn.execute(
        deliveries.update()
        .where(deliveries.c.channel_id == channel_id, deliveries.c.state.in_(WAITING))
        .values(state=DEAD, last_error=error[:300])
    )
    await conn.execute(
        channels.update().where(channels.c.channel_id == channel_id).values(lease_until=None)
    )
    return result.rowcount


async def _release(conn: AsyncConnection, claim: Claim, **values: Any) -> None:
    await conn.execute(
        channels.update()
        .where(channels.c.channel_id == claim.channel.channel_id)
        .values(lease_until=None, **values)
    )


async def backlog(conn: AsyncConnection, now: datetime) -> tuple[int, float]:
    """Return how many deliveries wait, and how long the oldest has (the stuck-queue gauge)."""
    row = (
        await conn.execute(
            sa.select(sa.func.count(), sa.func.min(deliveries.c.created_at)).where(
                deliveries.c.state.in_(WAITING)
            )
        )
    ).one()
    oldest = 0.0 if row[1] is None else max(0.0, (now - row[1]).total_seconds())
    return int(row[0]), oldest


def states(rows: Iterable[Any]) -> dict[str, int]:
    """Count rows by state (tests, the API's channel view)."""
    counted: dict[str, int] = {}
    for row in rows:
        counted[row.state] = counted.get(row.state, 0) + 1
    return counted

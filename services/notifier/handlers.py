"""The EVENTS consumer: every tenant's events in batches, one delivery row per (event, channel
that wants it), written in the batch's transaction.

Steps, per batch (`libs.common.consumer.BatchConsumer` on ``events.>``, durable ``notifier``):
decode each event (an unreadable one, or one on another tenant's subject, is dead-lettered);
keep those of a kind channels may want; in one transaction, load the batch's tenants' active
channels and insert a row per (event, channel): ``pending`` if wanted, ``dropped`` if not
(quiet or unchosen), skipping pairs already there; commit; then the batch is acked and the
sender woken. A redelivered batch inserts nothing new: exactly once per event and channel.
A ``tenant.deleted`` event removes the tenant's channels, deliveries and kept key.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.common.consumer import BatchConsumer, BatchSpec, ConsumerPolicy, Outcome, dead_letter
from libs.common.db import database_unavailable
from libs.common.errors import TemporaryError, UnavailableError
from libs.common.jetstream import ensure_topology
from libs.common.topology import Topology
from services.notifier.config import CONSUMER, SERVICE
from services.notifier.domain.kinds import EVENT_KINDS, Wish, wish
from services.notifier.domain.notices import Notice, notice_of
from services.notifier.metrics import DELIVERIES
from services.notifier.runtime import Runtime
from services.notifier.store.deliveries import DROPPED, PENDING, delivery_row, enqueue
from services.notifier.store.tables import channels, link_codes, tenant_keys

log = logging.getLogger(__name__)
_WANTED = frozenset(EVENT_KINDS) | {"tenant.deleted"}


def decode(msg: Msg) -> dict[str, Any] | None:
    """Return the event of ``msg`` if it is readable and its tenant is the subject's; None
    if it is not (dead-lettered by the caller)."""
    try:
        event = json.loads(msg.data)
    except ValueError:
        return None
    if not isinstance(event, dict) or not {"kind", "message_id", "tenant_id"} <= event.keys():
        return None
    parts = msg.subject.split(".")
    if len(parts) < 4 or parts[2] != event["tenant_id"]:  # <ns>.events.<tenant>.<kind…>
        return None
    return event


class EventsConsumer:
    """Turn batches of events into delivery rows."""

    def __init__(self, runtime: Runtime, topology: Topology) -> None:
        self._runtime = runtime
        self._topology = topology
        self._consumer: BatchConsumer | None = None

    @property
    def _deadletter_subject(self) -> str:
        return self._topology.deadletter_subject("EVENTS")

    async def handle(self, js: JetStreamContext, messages: Sequence[Msg]) -> None:
        """Write the batch's delivery rows; raise a `TemporaryError` to have it retried."""
        notices: list[Notice] = []
        deleted: list[str] = []
        for msg in messages:
            event = decode(msg)
            if event is None:
                await dead_letter(js, self._deadletter_subject, msg, Outcome.POISON, None)
                continue
            if event["kind"] == "tenant.deleted":
                deleted.append(event["tenant_id"])
            elif event["kind"] in _WANTED:
                try:
                    notices.append(notice_of(event))
                except (ValidationError, KeyError, TypeError, ValueError) as exc:
                    await dead_letter(js, self._deadletter_subject, msg, Outcome.POISON, exc)
        if not notices and not deleted:
            return
        try:
            async with self._runtime.db.as_writer() as conn:
                added = await self._fan_out(conn, notices)
                await _purge(conn, deleted)
        except (SQLAlchemyError, OSError) as exc:
            if database_unavailable(exc):
                raise UnavailableError(f"deliveries not written: {type(exc).__name__}") from exc
            raise TemporaryError(f"deliveries not written: {type(exc).__name__}") from exc
        if added:
            self._runtime.wake.set()

    async def _fan_out(self, conn: AsyncConnection, notices: Sequence[Notice]) -> int:
        if not notices:
            return 0
        tenants = sorted({n.tenant_id for n in notices})
        found = await conn.execute(
            sa.select(
                channels.c.channel_id, channels.c.tenant_id, channels.c.events, channels.c.quiet
            ).where(channels.c.tenant_id.in_(tenants), channels.c.status == "active")
        )
        by_tenant: dict[str, list[Any]] = {}
        for row in found:
            by_tenant.setdefault(row.tenant_id, []).append(row)
        now = self._runtime.clock()
        rows = []
        for notice in notices:
            for channel in by_tenant.get(notice.tenant_id, ()):
                decided = wish(notice.kind, channel.events, quiet=channel.quiet)
                if decided is Wish.IGNORE:
                    continue
                state = PENDING if decided is Wish.SEND else DROPPED
                rows.append(delivery_row(channel.channel_id, notice, now, state=state))
        for state in (PENDING, DROPPED):
            DELIVERIES.labels(state).inc(sum(1 for r in rows if r["state"] == state))
        await enqueue(conn, rows)
        return sum(1 for r in rows if r["state"] == PENDING)

    async def start(self, js: JetStreamContext, batch_size: int, wait_s: float) -> None:
        """Start consuming EVENTS through the durable ``notifier`` consumer."""

        async def handler(messages: list[Msg]) -> None:
            await self.handle(js, messages)

        spec = BatchSpec(
            service=SERVICE,
            stream=self._topology.events_stream,
            durable=CONSUMER,
            filter_subject=self._topology.events_filter,
            handler=handler,
            deadletter_subject=self._deadletter_subject,
            before_bind=lambda: ensure_topology(js, self._topology, manage=False),
            policy=ConsumerPolicy.event_batches(batch_size, wait_s),
        )
        self._consumer = BatchConsumer(js, spec)
        await self._consumer.start()

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None


async def _purge(conn: AsyncConnection, tenants: Sequence[str]) -> None:
    """Forget deleted tenants: channels (their deliveries cascade), kept keys, link codes."""
    if not tenants:
        return
    for table in (channels, tenant_keys, link_codes):
        await conn.execute(table.delete().where(table.c.tenant_id.in_(list(tenants))))

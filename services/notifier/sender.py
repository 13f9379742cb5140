"""The delivery loop: finds channels with something due, sends one message to each, settles.

Per channel, one message at a time (the channel is leased while a sender sends to it, so
replicas never send to one channel at once). What is due together goes out as one message, up
to the channel's `ChannelLimits.max_notices`; after a send the channel's gate closes for its
``min_interval_s`` (Telegram's 1/s per chat, email's one per minute), so a burst becomes a few
coalesced messages instead of a ban. A failed send keeps its rows and closes the gate for the
``retry_after`` the channel gave or an exponential backoff; a dead answer marks the channel
dead with its reason and never retries. See `services.notifier.store.deliveries` for exactly-once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from services.notifier.channels.base import Channel, Outcome, Outgoing, SendResult
from services.notifier.domain.kinds import ChannelKind
from services.notifier.metrics import (
    COALESCED,
    DEAD_CHANNELS,
    FAILED,
    OLDEST_PENDING,
    PENDING,
    SENT,
)
from services.notifier.runtime import Runtime
from services.notifier.store import deliveries as queue
from services.notifier.store.channels import mark_dead, target_of

log = logging.getLogger(__name__)
BACKLOG_EVERY_S = 5.0


class Sender:
    """Send what is due, channel by channel, within each channel's limits."""

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime
        settings = runtime.settings
        self._slots = asyncio.Semaphore(settings.sender_concurrency)
        self._busy: set[str] = set()
        self._sending: set[asyncio.Task[None]] = set()
        self._last_backlog = 0.0

    async def run(self) -> None:
        """Loop until cancelled: look for due channels whenever woken or every poll. Once
        cancelled, let the sends in flight finish (a send cut short goes again after the
        lease, a repeat receivers can drop: better not to)."""
        try:
            await self._loop()
        finally:
            settings = self._rt.settings
            if self._sending:
                longest = max(settings.channel_timeout_s, settings.smtp_timeout_s)
                await asyncio.wait(self._sending, timeout=longest + 1)

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                await self.round()
                if loop.time() - self._last_backlog >= BACKLOG_EVERY_S:
                    self._last_backlog = loop.time()
                    await self.report_backlog()
            except Exception:  # Postgres away: try again next round
                log.exception("sender round failed")
            self._rt.wake.clear()
            try:
                async with asyncio.timeout(self._rt.settings.sender_poll_s):
                    await self._rt.wake.wait()
            except TimeoutError:
                pass

    async def round(self) -> int:
        """Start a send for every due channel not already being served; return how many."""
        limit = self._rt.settings.sender_concurrency * 4
        async with self._rt.db.as_writer() as conn:
            due = await queue.due_channels(conn, self._rt.clock(), limit)
        started = 0
        for channel_id in due:
            if channel_id in self._busy:
                continue
            self._busy.add(channel_id)
            task = asyncio.create_task(self._serve(channel_id), name=f"send-{channel_id}")
            self._sending.add(task)
            task.add_done_callback(self._finished)
            started += 1
        return started

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        self._busy.discard(task.get_name().removeprefix("send-"))
        self._rt.wake.set()  # the channel may have more, due later or at once

    async def _serve(self, channel_id: str) -> None:
        async with self._slots:
            try:
                await self.send_one(channel_id)
            except Exception:
                log.exception("sending failed unexpectedly")

    async def send_one(self, channel_id: str) -> SendResult | None:
        """Claim, send and settle one message of ``channel_id``; None if nothing was due."""
        settings = self._rt.settings
        now = self._rt.clock()
        async with self._rt.db.as_writer() as conn:
            claim = await queue.claim(
                conn,
                channel_id,
                now,
                lease_s=settings.send_lease_s,
                max_notices=self._max_notices,
            )
        if claim is None:
            return None
        channel = self._rt.channels.get(ChannelKind(claim.channel.kind))
        result = await self._send(channel, claim)
        await self._settle(claim, channel, result)
        return result

    def _max_notices(self, row: Any) -> int:
        channel = self._rt.channels.get(ChannelKind(row.kind))
        if channel is None:
            return 1
        limits = channel.limits(target_of(row, self._rt.box))
        return min(limits.max_notices, self._rt.settings.coalesce_max)

    async def _send(self, channel: Channel | None, claim: queue.Claim) -> SendResult:
        if channel is None:
            return SendResult.retry("this channel kind is turned off here", "channel_off")
        try:
            target = target_of(claim.channel, self._rt.box)
            return await channel.send(target, Outgoing(claim.send_id, claim.notices))
        except Exception as exc:  # a channel must not raise; if it does, try again later
            log.exception("channel %s raised", claim.channel.kind)
            return SendResult.retry(f"unexpected {type(exc).__name__}", "error")

    async def _settle(
        self, claim: queue.Claim, channel: Channel | None, result: SendResult
    ) -> None:
        kind = claim.channel.kind
        now = self._rt.clock()
        settings = self._rt.settings
        async with self._rt.db.as_writer() as conn:
            if result.outcome is Outcome.SENT:
                interval = 0.0
                if channel is not None:
                    interval = channel.limits(target_of(claim.channel, self._rt.box)).min_interval_s
                await queue.settle_sent(conn, claim, now, min_interval_s=interval)
            elif result.outcome is Outcome.DEAD:
                if await mark_dead(conn, claim.channel.channel_id, result.reason, now):
                    DEAD_CHANNELS.labels(kind).inc()
                await queue.settle_dead(conn, claim.channel.channel_id, result.reason)
            elif result.outcome is Outcome.REFUSED:
                await queue.settle_given_up(conn, claim, now, f"refused: {result.reason}")
            elif (now - claim.oldest).total_seconds() > settings.give_up_after_s:
                await queue.settle_given_up(conn, claim, now, f"given up: {result.reason}")
            else:
                after = result.retry_after_s
                if after is None:
                    exponent = min(int(claim.channel.failures), 20)
                    after = min(settings.retry_max_s, settings.retry_initial_s * 2**exponent)
                await queue.settle_retry(conn, claim, now, after_s=after, error=result.reason)
        self._count(kind, claim, result)

    @staticmethod
    def _count(kind: str, claim: queue.Claim, result: SendResult) -> None:
        if result.outcome is Outcome.SENT:
            SENT.labels(kind).inc()
            if claim.coalesced:
                COALESCED.labels(kind).inc(len(claim.notices))
            return
        FAILED.labels(kind, result.code or result.outcome.value).inc()
        log.warning(
            "send to a %s channel failed (%s): %s",
            kind,
            result.outcome.value,
            result.reason,
            extra={"channel_id": claim.channel.channel_id, "send_id": claim.send_id},
        )

    async def report_backlog(self) -> None:
        """Update the pending and oldest-pending gauges."""
        async with self._rt.db.as_writer() as conn:
            count, oldest = await queue.backlog(conn, self._rt.clock())
        PENDING.set(count)
        OLDEST_PENDING.set(oldest)

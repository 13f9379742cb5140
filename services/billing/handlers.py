"""The usage consumer: a durable pull consumer of every tenant's events, in batches.

A batch is counted in one transaction and acked only after it commits. While Postgres is
unreachable the batch is retried in place with backoff; an unreadable event, or one still
failing at its last delivery, goes to the dead-letter subject so that it is neither lost
nor looped on.

The fetch loop is our own rather than faststream's batch subscriber: with nats-py 2.16 a
fetch whose deadline runs out raises a bare `asyncio.TimeoutError`, which faststream 0.7's
loop does not catch (it expects nats' own TimeoutError); its supervisor restarts the loop
and the messages already fetched wait ``ack_wait`` (30 s) for redelivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import nats.errors
from faststream.nats import NatsBroker
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from sqlalchemy.exc import SQLAlchemyError

from libs.common.jetstream import consumer_config, ensure_topology
from libs.common.topology import Topology
from services.billing.counting import Usage
from services.billing.metrics import USAGE_EVENTS

log = logging.getLogger(__name__)

USAGE_CONSUMER = "billing-usage"
MAX_BACKOFF_S = 30.0
RESUBSCRIBE_S = 1.0


def backoff_s(delivered: int) -> float:
    """Return how long to wait before the next delivery of a failing event."""
    return float(min(MAX_BACKOFF_S, 0.5 * 2 ** max(0, delivered - 1)))


class UsageConsumer:
    """Count batches of events; ack, retry later, or set aside each message."""

    def __init__(
        self, usage: Usage, broker: NatsBroker, topology: Topology, max_deliver: int
    ) -> None:
        self._usage = usage
        self._broker = broker
        self._topology = topology
        self._max_deliver = max_deliver

    async def handle(self, messages: list[Msg]) -> None:
        """Count ``messages`` and ack them, or arrange their redelivery."""
        try:
            outcome = await self._usage.record_batch([m.data for m in messages])
        except (SQLAlchemyError, OSError) as exc:
            log.warning("usage not counted yet; retrying", extra={"error": type(exc).__name__})
            await self._retry_later(messages, type(exc).__name__)
            return
        for position in outcome.unreadable:
            await self._dead_letter(messages[position], "unreadable event")
        USAGE_EVENTS.labels("counted").inc(outcome.counted)
        USAGE_EVENTS.labels("ignored").inc(outcome.ignored)
        for message in messages:
            await message.ack()

    async def _retry_later(self, messages: list[Msg], error: str) -> None:
        for message in messages:
            delivered = message.metadata.num_delivered or 1
            if delivered < self._max_deliver:
                USAGE_EVENTS.labels("retried").inc()
                await message.nak(delay=backoff_s(delivered))
            else:
                await self._dead_letter(message, f"still failing after {delivered}: {error}")
                await message.ack()

    async def _dead_letter(self, message: Msg, reason: str) -> None:
        log.error("event moved to the dead-letter subject", extra={"reason": reason})
        USAGE_EVENTS.labels("dead-lettered").inc()
        await self._broker.publish(
            message.data,
            self._topology.deadletter_subject("EVENTS"),
            stream=self._topology.deadletter_stream,
            headers={
                "Nats-Msg-Id": f"{USAGE_CONSUMER}:{message.metadata.sequence.stream}",
                "Sparky-Consumer": USAGE_CONSUMER,
                "Sparky-Subject": message.subject,
                "Sparky-Reason": reason[:200],
            },
        )

    async def run(self, js: JetStreamContext, batch_size: int, wait_s: float) -> None:
        """Fetch and count batches until cancelled; re-subscribe after a NATS failure."""
        while True:
            try:
                subscription = await self._subscribe(js, batch_size)
                try:
                    await self._consume(subscription, batch_size, wait_s)
                finally:
                    # A fetch cut short leaves its inbox open, and draining would wait for it.
                    with contextlib.suppress(Exception):
                        await subscription.unsubscribe()
            except asyncio.CancelledError:
                raise
            except (nats.errors.Error, OSError) as exc:
                _stop_if_cancelled()
                log.warning(
                    "usage consumer lost NATS; subscribing again", extra={"error": repr(exc)}
                )
                await asyncio.sleep(RESUBSCRIBE_S)

    async def _subscribe(
        self, js: JetStreamContext, batch_size: int
    ) -> JetStreamContext.PullSubscription:
        await ensure_topology(js, self._topology)  # a wiped NATS lost the stream too
        config = consumer_config(
            USAGE_CONSUMER,
            self._topology.events_filter,
            max_deliver=self._max_deliver,
            max_ack_pending=max(1000, batch_size * 4),
        )
        return await js.pull_subscribe(
            self._topology.events_filter,
            durable=USAGE_CONSUMER,
            stream=self._topology.events_stream,
            config=config,
        )

    async def _consume(
        self, subscription: JetStreamContext.PullSubscription, batch_size: int, wait_s: float
    ) -> None:
        while True:
            try:
                messages = await subscription.fetch(batch_size, timeout=wait_s)
            except TimeoutError:  # nothing new (nats' TimeoutError is one too)
                _stop_if_cancelled()
                continue
            await self.handle(messages)
            if len(messages) < batch_size:
                # Let the next batch fill up: counting one event per transaction cost several
                # times the CPU per event of counting hundreds (usage may lag by ``wait_s``).
                await asyncio.sleep(wait_s)


def _stop_if_cancelled() -> None:
    """Re-raise a cancellation that nats-py turned into a timeout (it does, inside fetch)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError

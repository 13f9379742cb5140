"""The usage consumer: every tenant's events, counted in batches on the one consumption layer.

A batch is counted in one transaction and acknowledged with one ack after it commits
(`libs.common.consumer.BatchConsumer`; counting is idempotent, so a redelivered batch changes
nothing). While Postgres is unreachable the batch is retried in place with backoff, however
long that takes; an unreadable event goes to the dead-letter subject, so that it is neither
lost nor looped on, and the rest of its batch is counted.
"""

from __future__ import annotations

import logging

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from sqlalchemy.exc import SQLAlchemyError

from libs.common.consumer import BatchConsumer, BatchSpec, ConsumerPolicy, Outcome, dead_letter
from libs.common.db import database_unavailable
from libs.common.errors import TemporaryError, UnavailableError
from libs.common.jetstream import ensure_topology
from libs.common.topology import Durables, Topology
from services.billing.metrics import USAGE_EVENTS
from services.billing.usage import Usage

log = logging.getLogger(__name__)

SERVICE = "billing"
USAGE_CONSUMER = Durables.BILLING_USAGE


class UsageConsumer:
    """Count batches of events; set aside the unreadable ones."""

    def __init__(self, usage: Usage, topology: Topology) -> None:
        self._usage = usage
        self._topology = topology
        self._consumer: BatchConsumer | None = None

    async def handle(self, js: JetStreamContext, messages: list[Msg]) -> None:
        """Count ``messages``; raise a `TemporaryError` to have the batch retried."""
        try:
            outcome = await self._usage.record_batch([m.data for m in messages])
        except (SQLAlchemyError, OSError) as exc:
            USAGE_EVENTS.labels("retried").inc(len(messages))
            if database_unavailable(exc):
                raise UnavailableError(f"usage not counted yet: {type(exc).__name__}") from exc
            raise TemporaryError(f"usage not counted yet: {type(exc).__name__}") from exc
        for position in outcome.unreadable:
            msg = messages[position]
            await dead_letter(js, self._deadletter_subject, msg, Outcome.POISON, None)
            USAGE_EVENTS.labels("dead-lettered").inc()
        USAGE_EVENTS.labels("counted").inc(outcome.counted)
        USAGE_EVENTS.labels("ignored").inc(outcome.ignored)

    @property
    def _deadletter_subject(self) -> str:
        return self._topology.deadletter_subject("EVENTS")

    async def start(self, js: JetStreamContext, batch_size: int, wait_s: float) -> None:
        """Start counting batches of up to ``batch_size``, each waiting up to ``wait_s`` to fill
        (counting one event per transaction costs several times the CPU per event of counting
        hundreds; usage may lag by ``wait_s``)."""

        async def handler(messages: list[Msg]) -> None:
            await self.handle(js, messages)

        spec = BatchSpec(
            service=SERVICE,
            stream=self._topology.events_stream,
            durable=USAGE_CONSUMER,
            filter_subject=self._topology.events_filter,
            handler=handler,
            deadletter_subject=self._deadletter_subject,
            before_bind=lambda: ensure_topology(
                js, self._topology, manage=False
            ),  # a wiped NATS lost it
            policy=ConsumerPolicy.event_batches(batch_size, wait_s),
        )
        self._consumer = BatchConsumer(js, spec)
        await self._consumer.start()

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

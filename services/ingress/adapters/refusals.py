"""Tell the trader's feed about refused alerts (`AlertRefused`), without costing the webhook.

Only a refusal of a known webhook is reported (never an unknown token: a stranger must not
fill a tenant's feed), never with the body or anything secret. Reports are throttled per
webhook and reason: the first goes out at once, the next ones of the same second are folded
into one event (``count``), so a flood of bad requests costs EVENTS at most one message per
webhook, reason and ``interval_s``. `report` never waits and never raises: the pending
refusals are bounded (``max_pending`` webhook-reason pairs; beyond, a refusal is dropped and
counted) and a background task publishes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from nats.errors import Error as NatsError

from libs.common.ids import TenantId, new_id
from libs.common.messages import AlertRefused, RefusalReason
from libs.common.publishing import JetStreamPublisher, PubAckError, message_headers
from libs.common.records import WebhookTokenRecord
from libs.common.topology import Topology
from services.ingress.metrics import REFUSALS_DROPPED, REFUSALS_REPORTED

log = logging.getLogger(__name__)
_PUBLISH_ERRORS = (NatsError, PubAckError, OSError, TimeoutError)
Key = tuple[str, RefusalReason]


@dataclass(slots=True)
class _Pending:
    tenant_id: TenantId
    webhook_id: str
    reason: RefusalReason
    status: int
    message: str
    first: datetime
    last: datetime
    count: int = 1


class RefusalReporter:
    """Fold refusals per webhook and reason; publish them from a task of their own."""

    def __init__(
        self,
        publisher: JetStreamPublisher,
        topology: Topology,
        *,
        clock: Callable[[], datetime],
        interval_s: float = 1.0,
        max_pending: int = 1000,
    ) -> None:
        self._publisher = publisher
        self._topology = topology
        self._clock = clock
        self._interval_s = interval_s
        self._max_pending = max_pending
        self._pending: dict[Key, _Pending] = {}
        self._sent: dict[Key, float] = {}  # monotonic time of each key's last event
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def report(
        self, webhook: WebhookTokenRecord, reason: RefusalReason, status: int, message: str
    ) -> None:
        """Note one refusal; it is published within ``interval_s``. Never waits or raises."""
        key = (webhook.webhook_id, reason)
        now = self._clock()
        pending = self._pending.get(key)
        if pending is not None:
            pending.count += 1
            pending.last, pending.message = now, message[:500]
            return
        if len(self._pending) >= self._max_pending:
            REFUSALS_DROPPED.inc()
            return
        self._pending[key] = _Pending(
            webhook.tenant_id, webhook.webhook_id, reason, status, message[:500], now, now
        )
        self._wake.set()

    async def start(self) -> None:
        """Start publishing in the background."""
        self._task = asyncio.create_task(self._run(), name="ingress-refusals")

    async def stop(self) -> None:
        """Publish what is due, then stop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._flush(due_only=False)

    async def _run(self) -> None:
        while True:
            self._wake.clear()  # before flushing: a report made meanwhile wakes us again
            wait = await self._flush(due_only=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def _flush(self, *, due_only: bool) -> float | None:
        """Publish the pending refusals that are due; return the seconds until the next is."""
        now = time.monotonic()
        next_due: float | None = None
        for key in list(self._pending):
            due = self._sent.get(key, -self._interval_s) + self._interval_s
            if due_only and due > now:
                next_due = min(next_due or due - now, due - now)
                continue
            await self._publish(self._pending.pop(key))
            self._sent[key] = now
        self._sent = {k: t for k, t in self._sent.items() if t + self._interval_s > now}
        return next_due

    async def _publish(self, pending: _Pending) -> None:
        own = new_id()
        event = AlertRefused(
            message_id=own,
            tenant_id=pending.tenant_id,
            correlation_id=own,
            causation_id=own,
            occurred_at=pending.last,
            webhook_id=pending.webhook_id,
            reason=pending.reason,
            status=pending.status,
            message=pending.message,
            count=pending.count,
            first_refused_at=pending.first,
        )
        subject = self._topology.event_subject(pending.tenant_id, event.kind)
        headers = message_headers(event, own, self._topology.events_stream)
        try:
            await self._publisher.send(subject, event.to_json(), headers, pending.tenant_id)
        except _PUBLISH_ERRORS as exc:
            REFUSALS_DROPPED.inc(pending.count)
            log.warning("refusal not reported: %s", type(exc).__name__)
            return
        REFUSALS_REPORTED.inc()

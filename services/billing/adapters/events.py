"""Billing's events on the EVENTS stream: ``tenant.deleted``, ``billing.payment_failed`` and
``billing.grace_ending``, each stored before it counts as sent."""

from __future__ import annotations

import nats.errors
from faststream.nats import NatsBroker

from libs.common.broker import publish_message
from libs.common.messages import GraceEnding, PaymentFailed, TenantDeleted
from libs.common.topology import Topology
from services.billing.errors import PublishError


class EventPublisher:
    """Publish billing's events and wait for JetStream's PubAck; failures are `PublishError`."""

    def __init__(self, broker: NatsBroker, topology: Topology, *, timeout_s: float = 2.0) -> None:
        self._broker = broker
        self._topology = topology
        self._timeout_s = timeout_s

    async def publish(self, event: TenantDeleted | PaymentFailed | GraceEnding) -> None:
        """Return once the stream stored ``event`` (or already had it: same id)."""
        subject = self._topology.event_subject(event.tenant_id, event.kind)
        try:
            await publish_message(
                self._broker,
                subject,
                event,
                stream=self._topology.events_stream,
                timeout_s=self._timeout_s,
            )
        except (nats.errors.Error, TimeoutError, OSError) as exc:
            raise PublishError(f"cannot publish {event.kind}: {type(exc).__name__}") from exc

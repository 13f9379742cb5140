"""Store intents in JetStream; the only I/O between an alert and its answer.

An intent counts as stored only once its PubAck is back: then 202. A PubAck marked duplicate
means JetStream already holds that dedup key: 200. Anything else (NATS down, reconnecting,
timing out, no stream) is a 503, which TradingView resends.

While the connection is down, the NATS client would buffer a publish and send it after
reconnecting, possibly after we answered 503; so ingress refuses at once instead. A publish
that times out may still be stored late; TradingView's resend then finds it (200 duplicate).

`IntentAccepted` is sent once the intent is stored, without waiting for its own PubAck (that
wait cost a second round trip per alert); a refusal is still logged and counted when its
PubAck arrives. Both go through `libs.common.publishing.JetStreamPublisher`, the publish
path of every service (``Nats-Msg-Id``, the expected stream, ``correlation_id``, the W3C
``traceparent`` and, when the request is traced, a producer span).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from nats.aio.client import Client
from nats.errors import Error as NatsError
from opentelemetry import trace

from libs.common.logs import log_context
from libs.common.messages import OrderIntent
from libs.common.publishing import (
    JetStreamPublisher,
    PubAckError,
    message_headers,
    producer_span,
)
from libs.common.topology import Topology
from services.ingress.domain.webhook import accepted_event
from services.ingress.errors import UnavailableError
from services.ingress.metrics import ACCEPTED_EVENT_FAILURES, PUBLISH_SECONDS

log = logging.getLogger(__name__)

_PUBLISH_ERRORS = (NatsError, PubAckError, OSError, TimeoutError)
_NOT_STORED = "Sparky could not store this alert right now; TradingView will resend it."


@dataclass(frozen=True, slots=True)
class Stored:
    """The answer to a stored alert: its intent id, or that it was a duplicate."""

    intent_id: str
    duplicate: bool


class IntentPublisher:
    """Publish intents to INTENTS and, once stored, their `IntentAccepted` to EVENTS."""

    def __init__(
        self,
        nc: Client,
        topology: Topology,
        *,
        clock: Callable[[], datetime],
        timeout_s: float,
        tracer: trace.Tracer,
    ) -> None:
        self._nc = nc
        self._jetstream = JetStreamPublisher(nc, "ingress", on_refused=_accepted_event_refused)
        self._topology = topology
        self._clock = clock
        self._timeout_s = timeout_s
        self._tracer = tracer

    async def start(self) -> None:
        """Subscribe to the PubAcks; call once connected, before the first alert."""
        await self._jetstream.start()

    async def store(self, intent: OrderIntent) -> Stored:
        """Return once JetStream holds the intent; raise `UnavailableError` when it may not."""
        if not self._nc.is_connected:
            raise UnavailableError(_NOT_STORED)
        subject = self._topology.intent_subject(intent.tenant_id)
        started = time.perf_counter()
        try:
            with producer_span(self._tracer, subject):
                headers = message_headers(intent, intent.dedup_key, self._topology.intents_stream)
                ack = await self._jetstream.request(
                    subject, intent.to_json(), headers, self._timeout_s
                )
        except _PUBLISH_ERRORS as exc:
            log.warning("intent not stored: %s", type(exc).__name__)
            raise UnavailableError(_NOT_STORED) from exc
        PUBLISH_SECONDS.observe(time.perf_counter() - started)
        if ack.duplicate:
            return Stored(intent.intent_id, duplicate=True)
        await self._announce(intent)
        return Stored(intent.intent_id, duplicate=False)

    async def _announce(self, intent: OrderIntent) -> None:
        """Send `IntentAccepted`; a failure is logged and counted, never answered as 5xx
        (the intent is stored: a 5xx would make TradingView resend it).
        """
        event = accepted_event(intent, self._clock())
        subject = self._topology.event_subject(intent.tenant_id, event.kind)
        msg_id = f"{intent.intent_id}:accepted"
        try:
            with producer_span(self._tracer, subject):
                headers = message_headers(event, msg_id, self._topology.events_stream)
                label = f"{intent.tenant_id}.{intent.intent_id}"
                await self._jetstream.send(subject, event.to_json(), headers, label)
        except _PUBLISH_ERRORS as exc:
            _accepted_event_refused(f"{intent.tenant_id}.{intent.intent_id}", repr(exc))


def _accepted_event_refused(label: str, reason: str) -> None:
    tenant_id, _, intent_id = label.partition(".")
    ACCEPTED_EVENT_FAILURES.inc()
    with log_context(tenant_id=tenant_id, intent_id=intent_id):
        log.warning("intent stored but IntentAccepted not published: %s", reason)

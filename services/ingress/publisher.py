"""Store intents in JetStream; the only I/O between an alert and its answer.

An intent counts as stored only once its PubAck is back: then 202. A PubAck marked duplicate
means JetStream already holds that dedup key: 200. Anything else (NATS down, reconnecting,
timing out, no stream) is a 503, which TradingView resends.

While the connection is down, the NATS client would buffer a publish and send it after
reconnecting, possibly after we answered 503; so ingress refuses at once instead. A publish
that times out may still be stored late; TradingView's resend then finds it (200 duplicate).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from faststream.exceptions import FastStreamException
from faststream.nats import NatsBroker
from nats.errors import Error as NatsError

from libs.common.broker import publish_message
from libs.common.logs import log_context
from libs.common.messages import OrderIntent
from libs.common.topology import Topology
from services.ingress.domain import accepted_event
from services.ingress.errors import UnavailableError
from services.ingress.metrics import ACCEPTED_EVENT_FAILURES, PUBLISH_SECONDS

log = logging.getLogger(__name__)

_PUBLISH_ERRORS = (NatsError, FastStreamException, OSError, TimeoutError)
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
        broker: NatsBroker,
        topology: Topology,
        *,
        clock: Callable[[], datetime],
        timeout_s: float,
        event_timeout_s: float,
    ) -> None:
        self._broker = broker
        self._topology = topology
        self._clock = clock
        self._timeout_s = timeout_s
        self._event_timeout_s = event_timeout_s

    async def store(self, intent: OrderIntent) -> Stored:
        """Return once JetStream holds the intent; raise `UnavailableError` when it may not."""
        if not self._connected():
            raise UnavailableError(_NOT_STORED)
        started = time.perf_counter()
        try:
            ack = await publish_message(
                self._broker,
                self._topology.intent_subject(intent.tenant_id),
                intent,
                stream=self._topology.intents_stream,
                msg_id=intent.dedup_key,
                timeout_s=self._timeout_s,
            )
        except _PUBLISH_ERRORS as exc:
            log.warning("intent not stored: %s", type(exc).__name__)
            raise UnavailableError(_NOT_STORED) from exc
        PUBLISH_SECONDS.observe(time.perf_counter() - started)
        if ack.duplicate:
            return Stored(intent.intent_id, duplicate=True)
        await self._announce(intent)
        return Stored(intent.intent_id, duplicate=False)

    def _connected(self) -> bool:
        try:
            return self._broker.connection.is_connected
        except FastStreamException:  # never connected, or stopped
            return False

    async def _announce(self, intent: OrderIntent) -> None:
        """Publish `IntentAccepted`; a failure is logged and counted, never answered as 5xx
        (the intent is stored: a 5xx would make TradingView resend it).
        """
        event = accepted_event(intent, self._clock())
        try:
            await publish_message(
                self._broker,
                self._topology.event_subject(intent.tenant_id, event.kind),
                event,
                stream=self._topology.events_stream,
                msg_id=f"{intent.intent_id}:accepted",
                timeout_s=self._event_timeout_s,
            )
        except _PUBLISH_ERRORS:
            ACCEPTED_EVENT_FAILURES.inc()
            with log_context(tenant_id=intent.tenant_id, intent_id=intent.intent_id):
                log.warning("intent stored but IntentAccepted not published", exc_info=True)

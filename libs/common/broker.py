"""The NATS broker every service uses, and the one way to publish a message to JetStream."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from faststream.nats import NatsBroker
from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from faststream.nats.prometheus import NatsPrometheusMiddleware
from prometheus_client import REGISTRY, CollectorRegistry

from libs.common.config import ServiceSettings
from libs.common.messages.base import Message

if TYPE_CHECKING:
    from nats.js.api import PubAck
    from opentelemetry.trace import TracerProvider

MSG_ID_HEADER = "Nats-Msg-Id"
JSON = "application/json"
DEFAULT_PUBLISH_TIMEOUT_S = 2.0


def make_broker(
    settings: ServiceSettings,
    service: str,
    *,
    tracer_provider: TracerProvider | None = None,
    registry: CollectorRegistry = REGISTRY,
) -> NatsBroker:
    """Return a broker for ``service``: OpenTelemetry spans and Prometheus metrics on every
    message, W3C ``traceparent`` carried in the NATS headers, reconnecting forever.
    """
    return NatsBroker(
        settings.nats_url,
        name=f"sparky-{service}",
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        connect_timeout=5,
        graceful_timeout=15.0,
        # faststream's own lines go through our JSON, redacting handler, not its coloured one.
        logger=logging.getLogger("faststream"),
        middlewares=(
            NatsTelemetryMiddleware(tracer_provider=tracer_provider),
            NatsPrometheusMiddleware(
                registry=registry, app_name=service, metrics_prefix="sparky_messaging"
            ),
        ),
    )


async def publish_message(
    broker: NatsBroker,
    subject: str,
    message: Message,
    *,
    stream: str,
    msg_id: str | None = None,
    timeout_s: float = DEFAULT_PUBLISH_TIMEOUT_S,
) -> PubAck:
    """Publish ``message`` to JetStream and return the PubAck once it is stored.

    ``msg_id`` becomes ``Nats-Msg-Id`` (the message id by default), so a second publish of the
    same id within the stream's duplicate window is dropped by the server and its PubAck says
    ``duplicate``. Raises ``nats.errors.TimeoutError`` or ``nats.errors.NoRespondersError``
    when nothing was stored.
    """
    headers = {MSG_ID_HEADER: msg_id or message.message_id, "content-type": JSON}
    return await broker.publish(
        message.to_json(),
        subject,
        headers=headers,
        correlation_id=message.correlation_id,
        stream=stream,
        timeout=timeout_s,
    )

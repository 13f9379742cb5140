"""The NATS broker every service uses, and the one way to publish a message to JetStream."""

from __future__ import annotations

import logging
import ssl
import weakref
from typing import TYPE_CHECKING, Any

from faststream.nats import NatsBroker
from faststream.nats.security import NatsUserPassword
from faststream.security import BaseSecurity
from nats.js.api import PubAck
from opentelemetry import trace
from opentelemetry.trace import Tracer

from libs.common.config import ServiceSettings
from libs.common.messages.base import Message
from libs.common.nats_access import connect_options
from libs.common.publishing import (
    JetStreamPublisher,
    message_headers,
    producer_span,
)
from libs.common.signing import CommandSigner

if TYPE_CHECKING:
    from opentelemetry.trace import TracerProvider

DEFAULT_PUBLISH_TIMEOUT_S = 2.0

_PUBLISHERS: weakref.WeakKeyDictionary[NatsBroker, JetStreamPublisher] = weakref.WeakKeyDictionary()
_OWNERS: weakref.WeakKeyDictionary[NatsBroker, tuple[str, Tracer]] = weakref.WeakKeyDictionary()
"""Each broker's service name and tracer, for its publisher's metrics and spans."""


def _security(options: dict[str, Any]) -> BaseSecurity | None:
    tls: ssl.SSLContext | None = options.get("tls")
    if "user" in options:
        return NatsUserPassword(options["user"], options["password"], ssl_context=tls)
    if tls is not None:
        return BaseSecurity(ssl_context=tls)
    return None


def make_broker(
    settings: ServiceSettings,
    service: str,
    *,
    tracer_provider: TracerProvider | None = None,
) -> NatsBroker:
    """Return a broker for ``service``, reconnecting forever; its publishes (`publish_message`)
    carry W3C ``traceparent`` in the NATS headers and are counted per stream.

    No faststream middleware: every consumer is a `libs.common.consumer` one and every publish
    goes through `JetStreamPublisher`, which record their own spans and metrics.
    """
    options = connect_options(settings, service)
    broker = NatsBroker(
        settings.nats_url,
        name=options["name"],
        inbox_prefix=options["inbox_prefix"],
        security=_security(options),
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        connect_timeout=5,
        graceful_timeout=15.0,
        # faststream's own lines go through our JSON, redacting handler, not its coloured one.
        logger=logging.getLogger("faststream"),
    )
    provider = tracer_provider or trace.get_tracer_provider()
    _OWNERS[broker] = (service, provider.get_tracer("sparky.publishing"))
    return broker


def _owner(broker: NatsBroker) -> tuple[str, Tracer]:
    return _OWNERS.get(broker) or ("unknown", trace.get_tracer("sparky.publishing"))


async def jetstream_publisher(broker: NatsBroker) -> JetStreamPublisher:
    """Return the broker's `JetStreamPublisher`, subscribed to its PubAcks on first use (and
    again should the broker have a new connection after a restart).
    """
    nc = broker.config.connection_state.connection
    publisher = _PUBLISHERS.get(broker)
    if publisher is None or publisher.connection is not nc:
        publisher = JetStreamPublisher(nc, _owner(broker)[0])
        _PUBLISHERS[broker] = publisher
    await publisher.start()
    return publisher


async def publish_message(
    broker: NatsBroker,
    subject: str,
    message: Message,
    *,
    stream: str,
    msg_id: str | None = None,
    timeout_s: float = DEFAULT_PUBLISH_TIMEOUT_S,
    signer: CommandSigner | None = None,
) -> PubAck:
    """Publish ``message`` to JetStream and return the PubAck once it is stored.

    ``msg_id`` becomes ``Nats-Msg-Id`` (the message id by default), so a second publish of the
    same id within the stream's duplicate window is dropped by the server and its PubAck says
    ``duplicate``. The message must land in ``stream`` (``Nats-Expected-Stream``). Raises
    `TimeoutError`, `libs.common.publishing.PubAckError` or another ``nats.errors.Error``
    when it may not be stored. Goes through `JetStreamPublisher`, not faststream's publisher
    (see `libs.common.publishing`): counted in ``sparky_published_messages_total``. A command
    on ORDERS goes with its issuer's ``signer`` (`libs.common.signing`).
    """
    publisher = await jetstream_publisher(broker)
    with producer_span(_owner(broker)[1], subject):
        payload = message.to_json()
        headers = message_headers(message, msg_id or message.message_id, stream)
        if signer is not None:
            headers |= signer.header(subject, payload)
        return await publisher.request(subject, payload, headers, timeout_s)

"""The NATS broker every service uses, and the one way to publish a message to JetStream."""

from __future__ import annotations

import logging
import ssl
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from faststream.nats import NatsBroker
from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from faststream.nats.prometheus.provider import (
    BatchNatsMetricsSettingsProvider,
    NatsMetricsSettingsProvider,
)
from faststream.nats.security import NatsUserPassword
from faststream.prometheus import ConsumeAttrs
from faststream.prometheus.middleware import PrometheusMiddleware
from faststream.security import BaseSecurity
from nats.aio.msg import Msg
from nats.js.api import PubAck
from opentelemetry import trace
from opentelemetry.trace import Tracer
from prometheus_client import REGISTRY, CollectorRegistry

from libs.common.config import ServiceSettings
from libs.common.messages.base import Message
from libs.common.nats_access import connect_options
from libs.common.publishing import (
    JetStreamPublisher,
    message_headers,
    metric_subject,
    producer_span,
)
from libs.common.signing import CommandSigner

if TYPE_CHECKING:
    from faststream.message.message import StreamMessage
    from faststream.response import PublishCommand
    from opentelemetry.trace import TracerProvider

DEFAULT_PUBLISH_TIMEOUT_S = 2.0

_PUBLISHERS: weakref.WeakKeyDictionary[NatsBroker, JetStreamPublisher] = weakref.WeakKeyDictionary()
_OWNERS: weakref.WeakKeyDictionary[NatsBroker, tuple[str, Tracer]] = weakref.WeakKeyDictionary()
"""Each broker's service name and tracer, for its publisher's metrics and spans."""


class _Provider(NatsMetricsSettingsProvider):
    __slots__ = ()

    def get_publish_destination_name_from_cmd(self, cmd: PublishCommand) -> str:
        return metric_subject(cmd.destination)

    def get_consume_attrs_from_message(self, msg: StreamMessage[Msg]) -> ConsumeAttrs:
        attrs = super().get_consume_attrs_from_message(msg)
        return {**attrs, "destination_name": metric_subject(attrs["destination_name"])}


class _BatchProvider(BatchNatsMetricsSettingsProvider):
    __slots__ = ()

    def get_publish_destination_name_from_cmd(self, cmd: PublishCommand) -> str:
        return metric_subject(cmd.destination)

    def get_consume_attrs_from_message(self, msg: StreamMessage[list[Msg]]) -> ConsumeAttrs:
        attrs = super().get_consume_attrs_from_message(msg)
        return {**attrs, "destination_name": metric_subject(attrs["destination_name"])}


def _metrics_provider(msg: Msg | Sequence[Msg] | None) -> _Provider | _BatchProvider | None:
    if isinstance(msg, Sequence):
        return _BatchProvider()
    if isinstance(msg, Msg) or msg is None:
        return _Provider()
    return None  # KV and object-store watches: not counted


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
    registry: CollectorRegistry = REGISTRY,
) -> NatsBroker:
    """Return a broker for ``service``: OpenTelemetry spans and Prometheus metrics on every
    message, W3C ``traceparent`` carried in the NATS headers, reconnecting forever.
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
        middlewares=(
            NatsTelemetryMiddleware(tracer_provider=tracer_provider),
            PrometheusMiddleware(
                settings_provider_factory=_metrics_provider,
                registry=registry,
                app_name=service,
                metrics_prefix="sparky_messaging",
            ),
        ),
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

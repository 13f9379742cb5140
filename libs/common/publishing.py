"""JetStream publishing at a fraction of the usual CPU: the one publish path of every service.

A JetStream publish is a core NATS publish with a reply subject, to which the server sends its
PubAck once the message is stored. nats-py's ``js.publish`` (and faststream's publisher on top
of it) pays per message for a random reply token (a ``getrandom`` system call), ``wait_for``,
a callback task and a dataclass; faststream adds its middleware chain (a span and metrics per
message), which cost about as much CPU as the rest of the publish. Here one subscription on
``<inbox>.>`` receives every PubAck of the process:

- `request`: publish and wait for the PubAck (an intent before its 202, an order before its
  intent is acknowledged, an event before its order record moves on);
- `send`: publish without waiting; the PubAck is checked when it arrives and a refusal
  (no stream, a JetStream error) is reported to ``on_refused`` with the message's label.
  A PubAck that never comes is not noticed (the server answers or the connection drops, and
  nats-py resends what it buffered after a reconnect).

What faststream's publisher did that matters is kept by `message_headers` (``Nats-Msg-Id``,
the expected stream, ``content-type``, ``correlation_id``, the W3C ``traceparent``), by
`producer_span` (a span only when the caller's span is recorded) and by the two metrics below.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import PubAck
from opentelemetry import propagate, trace
from prometheus_client import Counter, Histogram

from libs.common.messages.base import Message

MSG_ID_HEADER = "Nats-Msg-Id"
EXPECTED_STREAM = "Nats-Expected-Stream"
KEY_HEADER = "Sparky-Key"  # a message's ordering key within its tenant
"""The header by which the server refuses a message that would land in another stream."""
JSON = "application/json"
_STATUS = "Status"
Refused = Callable[[str, str], None]
"""Called with the label given to `send` and what the server said."""

PUBLISHED = Counter(
    "sparky_published_messages",
    "JetStream publishes that waited for their PubAck, by stream and outcome "
    "(stored, duplicate, failed)",
    ["component", "stream", "outcome"],
)
PUBLISH_SECONDS = Histogram(
    "sparky_publish_duration_seconds",
    "From a JetStream publish to its PubAck (stored or duplicate)",
    ["component", "stream"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)


class PubAckError(nats.errors.Error):
    """The server did not store the message (no stream, or JetStream refused it)."""


class JetStreamPublisher:
    """Publish to JetStream streams; every PubAck comes back on one inbox subscription."""

    def __init__(self, nc: Client, service: str, on_refused: Refused | None = None) -> None:
        self._nc = nc
        self.service = service
        self._on_refused = on_refused
        self._waiting: dict[str, asyncio.Future[Msg]] = {}
        self._numbers = itertools.count()
        self._subscription: Subscription | None = None
        self._starting: asyncio.Future[None] | None = None
        self._prefix = ""

    @property
    def connection(self) -> Client:
        return self._nc

    async def start(self) -> None:
        """Subscribe to the PubAcks (nats-py renews the subscription after a reconnect).

        Idempotent: concurrent callers share one subscription; a failed attempt is retried by
        the next call.
        """
        if self._subscription is not None:
            return
        starting = self._starting
        if starting is None or (starting.done() and (starting.cancelled() or starting.exception())):
            starting = self._starting = asyncio.ensure_future(self._subscribe())
        await asyncio.shield(starting)

    async def _subscribe(self) -> None:
        prefix = self._nc.new_inbox() + "."
        self._subscription = await self._nc.subscribe(prefix + ">", cb=self._on_reply)
        self._prefix = prefix

    async def request(
        self, subject: str, payload: bytes, headers: dict[str, str], timeout_s: float
    ) -> PubAck:
        """Publish and return the PubAck once stored (``duplicate`` when the server already
        had this message id). Raise `TimeoutError`, `PubAckError` or a nats error when it may
        not be stored.
        """
        stream = headers.get(EXPECTED_STREAM, "")
        token = f"i.{next(self._numbers)}"
        future = asyncio.get_running_loop().create_future()
        self._waiting[token] = future
        started = time.perf_counter()
        try:
            await self._nc.publish(subject, payload, self._prefix + token, headers)
            async with asyncio.timeout(timeout_s):
                reply = await future
            ack = PubAck.from_response(dict(_pub_ack(reply)))
        except BaseException:
            PUBLISHED.labels(self.service, stream, "failed").inc()
            raise
        finally:
            self._waiting.pop(token, None)
        PUBLISH_SECONDS.labels(self.service, stream).observe(time.perf_counter() - started)
        PUBLISHED.labels(self.service, stream, "duplicate" if ack.duplicate else "stored").inc()
        return ack

    async def send(self, subject: str, payload: bytes, headers: dict[str, str], label: str) -> None:
        """Publish without waiting for the PubAck; ``label`` (subject-safe tokens) names the
        message to ``on_refused`` if the server refuses it.
        """
        await self._nc.publish(subject, payload, f"{self._prefix}s.{label}", headers)

    async def _on_reply(self, msg: Msg) -> None:
        kind, _, label = msg.subject[len(self._prefix) :].partition(".")
        if kind == "i":
            future = self._waiting.get(msg.subject[len(self._prefix) :])
            if future is not None and not future.done():
                future.set_result(msg)
            return
        try:
            _pub_ack(msg)
        except PubAckError as refused:
            if self._on_refused is not None:
                self._on_refused(label, str(refused))


def message_headers(message: Message, msg_id: str, stream: str) -> dict[str, str]:
    """Return a message's NATS headers: its dedup id, the stream that must store it, its
    correlation id, its ordering key within the tenant (``Sparky-Key``, when it has one) and
    the current trace context (so the consumer's spans join the trace).
    """
    headers = {
        MSG_ID_HEADER: msg_id,
        EXPECTED_STREAM: stream,
        "content-type": JSON,
        "correlation_id": message.correlation_id,
    }
    if (key := message.ordering_key) is not None:
        headers[KEY_HEADER] = key
    propagate.inject(headers)
    return headers


@contextmanager
def producer_span(tracer: trace.Tracer, subject: str) -> Iterator[None]:
    """A producer span around a publish when the caller's span is recorded, or when there is
    no trace yet (the message then starts one, so its consumers' log lines share a trace id);
    nothing inside an unrecorded trace, whose ``traceparent`` is carried as it is. The span is
    named after the subject without its tenant (`metric_subject`).
    """
    current = trace.get_current_span()
    if not current.is_recording() and current.get_span_context().is_valid:
        yield
        return
    label = metric_subject(subject)
    attributes = {"messaging.system": "nats", "messaging.destination.name": label}
    with tracer.start_as_current_span(
        f"{label} publish", kind=trace.SpanKind.PRODUCER, attributes=attributes
    ):
        yield


def metric_subject(subject: str) -> str:
    """Return ``subject`` with its tenant id replaced by ``*``, fit for a metric label.

    Tenant ids are unbounded, and a label per tenant would grow /metrics and memory without
    end (``intents.<p>.<tenant>`` → ``intents.<p>.*``, ``events.<tenant>.<kind>`` →
    ``events.*.<kind>``; a KV key → ``$KV.<bucket>.*``).
    """
    parts = subject.split(".")
    if len(parts) >= 4 and parts[1] in ("intents", "orders"):
        parts[3] = "*"
    elif len(parts) >= 3 and parts[1] == "events":
        parts[2] = "*"
    elif len(parts) >= 3 and parts[0] == "$KV":
        del parts[3:]
        parts[2] = "*"
    return ".".join(parts)


def _pub_ack(msg: Msg) -> Mapping[str, object]:
    if msg.headers and msg.headers.get(_STATUS):  # 503: no stream listens on the subject
        raise PubAckError(f"no stream stored it (status {msg.headers[_STATUS]})")
    answer: dict[str, object] = json.loads(msg.data)
    if "error" in answer:
        raise PubAckError(f"JetStream refused it: {answer['error']}")
    return answer

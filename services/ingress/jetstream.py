"""JetStream publishing on the webhook's hot path, at a fraction of the usual CPU.

A JetStream publish is a core NATS publish with a reply subject, to which the server sends its
PubAck once the message is stored. nats-py's ``js.publish`` (and faststream's publisher on top
of it) pays per message for a random reply token (a ``getrandom`` system call), ``wait_for``,
a callback task and a dataclass; faststream adds its middleware chain. Here one subscription
on ``<inbox>.>`` receives every PubAck of the process:

- `request`: publish and wait for the PubAck (the intent: 202 only once it is stored);
- `send`: publish without waiting; the PubAck is checked when it arrives and a refusal
  (no stream, a JetStream error) is reported to ``on_refused`` with the message's label.
  A PubAck that never comes is not noticed (the server answers or the connection drops, and
  nats-py resends what it buffered after a reconnect).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable, Mapping

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

EXPECTED_STREAM = "Nats-Expected-Stream"
"""The header by which the server refuses a message that would land in another stream."""
_STATUS = "Status"
Refused = Callable[[str, str], None]
"""Called with the label given to `send` and what the server said."""


class PubAckError(Exception):
    """The server did not store the message."""


class JetStreamPublisher:
    """Publish to JetStream streams; every PubAck comes back on one inbox subscription."""

    def __init__(self, nc: Client, on_refused: Refused) -> None:
        self._nc = nc
        self._on_refused = on_refused
        self._waiting: dict[str, asyncio.Future[Msg]] = {}
        self._numbers = itertools.count()
        self._subscription: Subscription | None = None
        self._prefix = ""

    async def start(self) -> None:
        """Subscribe to the PubAcks (nats-py renews the subscription after a reconnect)."""
        self._prefix = self._nc.new_inbox() + "."
        self._subscription = await self._nc.subscribe(self._prefix + ">", cb=self._on_reply)

    async def request(
        self, subject: str, payload: bytes, headers: dict[str, str], timeout_s: float
    ) -> bool:
        """Publish and return once stored: whether the server already had this message id.

        Raise `TimeoutError`, `PubAckError` or a nats error when it may not be stored.
        """
        token = f"i.{next(self._numbers)}"
        future = asyncio.get_running_loop().create_future()
        self._waiting[token] = future
        try:
            await self._nc.publish(subject, payload, self._prefix + token, headers)
            async with asyncio.timeout(timeout_s):
                reply = await future
        finally:
            self._waiting.pop(token, None)
        return bool(_pub_ack(reply).get("duplicate"))

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
            self._on_refused(label, str(refused))


def _pub_ack(msg: Msg) -> Mapping[str, object]:
    if msg.headers and msg.headers.get(_STATUS):  # 503: no stream listens on the subject
        raise PubAckError(f"no stream stored it (status {msg.headers[_STATUS]})")
    answer: dict[str, object] = json.loads(msg.data)
    if "error" in answer:
        raise PubAckError(f"JetStream refused it: {answer['error']}")
    return answer

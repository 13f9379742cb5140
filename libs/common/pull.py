"""Long-lived pull requests on a durable JetStream consumer: what every consumer reads with.

A `Puller` keeps at most one pull request open. It asks for as many messages as its caller
has room for and lasts ``expires_s``; the server delivers each message as soon as it is
stored, so a busy consumer pays one request per batch and an idle one one request per
``expires_s``, instead of one request (and its 408 terminator) per message, which is what
nats-py's ``fetch`` costs at low rates. Long requests carry the server's idle heartbeat, so a
request lost with a reconnect is noticed within a few seconds and asked again.

It speaks JetStream's pull protocol directly (one subscription; a request per reply subject),
because nats-py's ``fetch`` starts two asyncio tasks per message.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import deque
from collections.abc import Callable

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext, api
from prometheus_client import Counter

HEARTBEAT_FROM_S = 10.0  # requests at least this long ask for idle heartbeats
HEARTBEAT_S = 5.0
REFUSED_PAUSE_S = 0.2

PULL_REQUESTS = Counter(
    "sparky_consumer_pull_requests_total", "Pull requests sent to JetStream", ["component"]
)


class ConsumerGoneError(RuntimeError):
    """The durable consumer was deleted under us: bind it again."""


class Puller:
    """Collect what one pull request at a time delivers; `take` hands it out."""

    def __init__(
        self,
        nc: Client,
        stream: str,
        durable: str,
        *,
        expires_s: float = 30.0,
        api_prefix: str = "$JS.API",
        service: str,
    ) -> None:
        self._nc = nc
        self._subject = f"{api_prefix}.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self._expires_s = expires_s
        self._heartbeat_s = HEARTBEAT_S if expires_s >= HEARTBEAT_FROM_S else 0.0
        self._inbox = ""
        self._numbers = itertools.count()
        self._current = ""  # reply subject of the open request
        self._open = 0  # messages the open request may still deliver
        self._heard = 0.0  # when the open request last delivered anything or a heartbeat
        self._buffer: deque[Msg] = deque()
        self._changed = asyncio.Event()
        self._gone = False
        self._refused = False  # a 409 ended the request: pause before asking again
        self._sub: Subscription | None = None
        self._requests = PULL_REQUESTS.labels(service)

    @classmethod
    def of(
        cls, js: JetStreamContext, stream: str, durable: str, *, expires_s: float, service: str
    ) -> Puller:
        """Return a puller on the connection and API prefix ``js`` was made with."""
        nc, prefix = js._nc, js._prefix  # noqa: SLF001 - nats-py keeps them only there
        return cls(nc, stream, durable, expires_s=expires_s, api_prefix=prefix, service=service)

    async def __aenter__(self) -> Puller:
        self._inbox = self._nc.new_inbox()
        self._sub = await self._nc.subscribe(self._inbox + ".*", cb=self._on_message)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    async def _on_message(self, msg: Msg) -> None:
        status = JetStreamContext.is_status_msg(msg)
        # A delivered message carries its stream subject; only a status comes on the reply
        # subject of the request it ends, so an old request's late 408 is told apart.
        current = msg.subject == self._current
        if not status:
            self._buffer.append(msg)
            self._open = max(self._open - 1, 0)
            self._heard = time.monotonic()
        elif status == api.StatusCode.CONTROL_MESSAGE:  # an idle heartbeat
            if current:
                self._heard = time.monotonic()
            return
        elif current:  # 404, 408, 409: the request is over
            self._open = 0
            description = (msg.headers or {}).get(api.Header.DESCRIPTION, "")
            self._gone = self._gone or "consumer deleted" in description.lower()
            self._refused = self._refused or status == api.StatusCode.CONFLICT
        self._changed.set()

    async def take(
        self, limit: int, *, fill_s: float = 0.0, timeout_s: float | None = None
    ) -> list[Msg]:
        """Return between one and ``limit`` messages: wait for the first (at most
        ``timeout_s``, then return none), then up to ``fill_s`` for more.

        ``limit`` is the caller's room: the open request never asks for more than that.
        """
        loop = asyncio.get_running_loop()
        deadline = None if timeout_s is None else loop.time() + timeout_s
        while not self._buffer:
            if self._gone:
                raise ConsumerGoneError(f"{self._subject}: the consumer was deleted")
            await self._ask(limit)
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                return []
            wait = self._patience() if left is None else min(left, self._patience())
            await self._wait(lambda: bool(self._buffer) or not self._open, wait)
            self._forget_if_lost()
            if self._refused:  # leadership change, limits: never spin on the server
                self._refused = False
                await asyncio.sleep(REFUSED_PAUSE_S)
        if fill_s > 0 and len(self._buffer) < limit:
            end = loop.time() + fill_s
            while len(self._buffer) < limit and (rest := end - loop.time()) > 0:
                if self._refused:
                    break
                if not self._open:
                    await self._ask(limit)
                await self._wait(lambda: len(self._buffer) >= limit or not self._open, rest)
        return [self._buffer.popleft() for _ in range(min(limit, len(self._buffer)))]

    async def _ask(self, limit: int) -> None:
        want = limit - len(self._buffer)
        if self._open or want <= 0:
            return
        request: dict[str, int] = {"batch": want, "expires": int(self._expires_s * 1e9)}
        if self._heartbeat_s:
            request["idle_heartbeat"] = int(self._heartbeat_s * 1e9)
        self._current = f"{self._inbox}.{next(self._numbers)}"
        self._open = want
        self._heard = time.monotonic()
        self._requests.inc()
        await self._nc.publish(self._subject, json.dumps(request).encode(), self._current)

    def _patience(self) -> float:
        """How long the open request may stay silent before it counts as lost."""
        if self._heartbeat_s:
            return 2 * self._heartbeat_s + 1.0
        return self._expires_s + 1.0

    def _forget_if_lost(self) -> None:
        if self._open and time.monotonic() - self._heard > self._patience():
            self._open = 0  # lost with a reconnect: the next `_ask` sends a new one

    async def _wait(self, done: Callable[[], bool], timeout_s: float) -> None:
        self._changed.clear()
        if done():
            return
        # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation
        # that arrives as the event is set, and a consumer being stopped would run on.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self._changed.wait()

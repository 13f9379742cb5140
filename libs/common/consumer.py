"""Partitioned consumption of a JetStream stream, in stream order per tenant.

The router and the executor each own some partitions (``owned_partitions``). For every owned
partition this module keeps one durable pull consumer (``router-p3``) and fans its messages out
to one queue per tenant: a tenant's messages are handled one at a time, in stream order, while
other tenants' queues proceed concurrently, so a slow tenant (or exchange) stalls only itself.

What happens to a message, decided here once for both services:

- the handler returns → ack;
- it raises `TemporaryError` → retried in place with exponential backoff (the tenant's later
  messages wait behind it, so order holds) until ``give_up_after_s``, then ``on_failure``
  (``GAVE_UP``) and ack. Time spent on `UnavailableError` (Postgres, NATS, Redis or Vault
  away) does not count: such a message waits for the server however long it takes;
- it raises anything else → retried ``unexpected_attempts`` times, then ``on_failure``
  (``POISON``), a copy to the dead-letter subject, and ack;
- it arrives for the ``max_deliver``-th time (earlier deliveries crashed their process) →
  ``on_failure`` (``MAX_DELIVERIES``), dead-letter, ack, without running the handler again.

Every buffered message held longer than a third of ``ack_wait`` gets an in-progress ack every
third of ``ack_wait``, so nothing is redelivered while it waits its turn (and a message handled
within seconds costs the server no in-progress ack at all). After a crash, the messages the
dead process held come back only when their ``ack_wait`` expires, and JetStream then serves
redeliveries before new messages; so a starting consumer that finds unacknowledged messages
waits for them first, rather than run a tenant's newer message before its older one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import BadRequestError
from opentelemetry import propagate, trace
from prometheus_client import Counter, Gauge, Histogram

from libs.common.errors import TemporaryError, UnavailableError
from libs.common.jetstream import consumer_config
from libs.common.redaction import redact

log = logging.getLogger(__name__)
_tracer = trace.get_tracer(__name__)

MESSAGES = Counter(
    "sparky_consumer_messages_total", "Messages finished, by outcome", ["service", "outcome"]
)
RETRIES = Counter("sparky_consumer_retries_total", "Handler attempts retried", ["service", "kind"])
HANDLE_SECONDS = Histogram(
    "sparky_consumer_handle_seconds", "Time from first attempt to ack", ["service"]
)
BUFFERED = Gauge("sparky_consumer_buffered_messages", "Messages held in memory", ["service"])
PENDING = Gauge(
    "sparky_consumer_pending_messages",
    "Messages not yet acknowledged by a durable consumer (lag)",
    ["stream", "consumer"],
)


class Outcome(StrEnum):
    """Why a message was finished without its handler succeeding."""

    GAVE_UP = "gave_up"
    POISON = "poison"
    MAX_DELIVERIES = "max_deliveries"


Handler = Callable[[Msg], Awaitable[None]]
FailureHandler = Callable[[Msg, Outcome, BaseException | None], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ConsumerPolicy:
    """Timings and bounds of a partitioned consumer."""

    ack_wait_s: float = 30.0
    max_deliver: int = 10
    max_ack_pending: int = 2000
    batch_size: int = 100
    fetch_timeout_s: float = 1.0
    retry_initial_s: float = 0.2
    retry_max_s: float = 10.0
    give_up_after_s: float = 120.0
    unexpected_attempts: int = 3
    max_concurrency: int = 64
    lag_poll_s: float = 5.0

    def backoff(self, attempt: int) -> float:
        """Return the pause before retry number ``attempt`` (0-based)."""
        return float(min(self.retry_max_s, self.retry_initial_s * 2**attempt))


def _raise_if_cancelled() -> None:
    # nats-py's fetch can turn a cancellation into a timeout; do not swallow a shutdown.
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def tenant_from_subject(subject: str) -> str:
    """Return the tenant of ``<ns>.<stream>.<p>.<tenant>``: the last token."""
    return subject.rsplit(".", 1)[-1]


@dataclass(frozen=True, slots=True)
class ConsumerSpec:
    """Which stream, which partitions, and what to do with each message."""

    service: str
    stream: str
    filter_of: Callable[[int], str]
    partitions: Sequence[int]
    handler: Handler
    on_failure: FailureHandler
    deadletter_subject: str
    policy: ConsumerPolicy = ConsumerPolicy()


class PartitionedConsumer:
    """Run one `_Partition` per owned partition; start, then stop gracefully."""

    def __init__(self, js: JetStreamContext, spec: ConsumerSpec) -> None:
        self._js = js
        self.spec = spec
        self._slots = asyncio.Semaphore(spec.policy.max_concurrency)
        self._span_name = f"{spec.stream} process"
        self._partitions = [_Partition(self, p) for p in spec.partitions]
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Create or bind the durable consumers and start consuming."""
        for part in self._partitions:
            await part.bind()
        self._tasks = [
            asyncio.create_task(part.run(), name=part.durable) for part in self._partitions
        ]

    async def stop(self, timeout_s: float = 15.0) -> None:
        """Stop fetching, let buffered messages finish for up to ``timeout_s``, then cancel."""
        for part in self._partitions:
            part.stopping = True
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await asyncio.gather(*(p.drained() for p in self._partitions))
        for task in self._tasks:
            task.cancel()
        for part in self._partitions:
            part.cancel_workers()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    @property
    def buffered(self) -> int:
        return sum(p.buffered for p in self._partitions)

    async def handle(self, msg: Msg) -> None:
        """Run the handler until it succeeds or the policy gives up; then ack. The work joins
        the trace of the message's ``traceparent``: log lines and the messages it publishes
        carry the alert's trace id.
        """
        parent = propagate.extract(msg.headers) if msg.headers else None
        with _tracer.start_as_current_span(
            self._span_name, context=parent, kind=trace.SpanKind.CONSUMER
        ):
            await self._handle(msg)

    async def _handle(self, msg: Msg) -> None:
        policy = self.spec.policy
        started = mark = time.monotonic()
        spent = 0.0  # time towards give_up_after_s: failing, but not waiting for a server
        attempt = unexpected = 0
        while True:
            try:
                async with self._slots:
                    await self.spec.handler(msg)
            except TemporaryError as exc:
                waiting = isinstance(exc, UnavailableError)
                RETRIES.labels(self.spec.service, "unavailable" if waiting else "temporary").inc()
                now = time.monotonic()
                spent += 0.0 if waiting else now - mark
                mark = now
                if spent > policy.give_up_after_s:
                    return await self.fail(msg, Outcome.GAVE_UP, exc)
                delay = exc.retry_after if exc.retry_after is not None else policy.backoff(attempt)
                log.warning("temporary failure, retrying in %.1f s: %s", delay, exc.message)
            except Exception as exc:  # a bug or a poison message: bounded retries
                RETRIES.labels(self.spec.service, "unexpected").inc()
                unexpected += 1
                log.exception("handler failed (attempt %d)", unexpected)
                if unexpected >= policy.unexpected_attempts:
                    return await self.fail(msg, Outcome.POISON, exc)
                delay = policy.backoff(attempt)
            else:
                await msg.ack()
                MESSAGES.labels(self.spec.service, "acked").inc()
                HANDLE_SECONDS.labels(self.spec.service).observe(time.monotonic() - started)
                return None
            attempt += 1
            await asyncio.sleep(delay)

    async def fail(self, msg: Msg, outcome: Outcome, exc: BaseException | None) -> None:
        """Report the failure (retrying the report itself), dead-letter if poisonous, ack."""
        attempt = 0
        while True:
            try:
                await self.spec.on_failure(msg, outcome, exc)
                if outcome is not Outcome.GAVE_UP:
                    await self._dead_letter(msg, outcome, exc)
                break
            except Exception:  # the report must get out; keep the message meanwhile
                log.exception("could not report a failed message; retrying")
                await asyncio.sleep(self.spec.policy.backoff(attempt))
                attempt += 1
        await msg.ack()
        MESSAGES.labels(self.spec.service, outcome.value).inc()

    async def _dead_letter(self, msg: Msg, outcome: Outcome, exc: BaseException | None) -> None:
        meta = msg.metadata
        error = redact(f"{type(exc).__name__}: {exc}" if exc else outcome.value)[:500]
        headers = {
            "Nats-Msg-Id": f"{meta.stream}:{meta.sequence.stream}",
            "Sparky-Original-Subject": msg.subject,
            "Sparky-Stream-Sequence": str(meta.sequence.stream),
            "Sparky-Outcome": outcome.value,
            "Sparky-Error": error,
        }
        await self._js.publish(self.spec.deadletter_subject, msg.data, headers=headers)
        log.error("message dead-lettered", extra={"subject": msg.subject, "outcome": outcome})


class _Partition:
    """One durable consumer and the per-tenant queues of its messages."""

    def __init__(self, owner: PartitionedConsumer, p: int) -> None:
        self.owner, self.p = owner, p
        spec = owner.spec
        self.durable = f"{spec.service}-p{p}"
        self.stopping = False
        self._queues: dict[str, deque[Msg]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._held: dict[int, float] = {}  # stream sequence -> when it was fetched
        # Later deliveries of a message we still hold; acked with it, so none is left pending.
        self._redelivered: dict[int, list[Msg]] = {}
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def buffered(self) -> int:
        return len(self._held)

    async def bind(self) -> None:
        """Create the durable consumer, or keep the existing one (and its position)."""
        spec, policy = self.owner.spec, self.owner.spec.policy
        config = consumer_config(
            self.durable,
            spec.filter_of(self.p),
            ack_wait_s=policy.ack_wait_s,
            max_deliver=policy.max_deliver,
            max_ack_pending=policy.max_ack_pending,
        )
        try:
            await self.owner._js.add_consumer(spec.stream, config)  # noqa: SLF001
        except BadRequestError as exc:
            log.warning("consumer %s exists with another configuration: %s", self.durable, exc)

    async def run(self) -> None:
        """Fetch and dispatch until stopped; a failed fetch loop (NATS away, consumer deleted)
        is logged and started again, never left dead.
        """
        beat = asyncio.create_task(self._heartbeat())
        try:
            while not self.stopping:
                try:
                    await self._fetch_loop()
                except Exception:  # logged loudly; the loop is the partition's only worker
                    log.exception("%s: fetch loop failed; restarting", self.durable)
                    await asyncio.sleep(1.0)
        finally:
            beat.cancel()

    async def _fetch_loop(self) -> None:
        js, spec = self.owner._js, self.owner.spec  # noqa: SLF001
        await self.bind()
        sub = await js.pull_subscribe_bind(self.durable, stream=spec.stream)
        try:
            await self._await_redeliveries()
            while not self.stopping:
                try:
                    msgs = await sub.fetch(
                        spec.policy.batch_size, timeout=spec.policy.fetch_timeout_s
                    )
                except TimeoutError:  # nats-py raises its own or asyncio's: both mean "none yet"
                    _raise_if_cancelled()
                    continue
                for msg in msgs:
                    self._dispatch(msg)
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _await_redeliveries(self) -> None:
        info = await self.owner._js.consumer_info(self.owner.spec.stream, self.durable)  # noqa: SLF001
        # Messages this process still holds (the fetch loop restarted after a NATS hiccup)
        # are being handled here: only unacknowledged messages beyond those are another's.
        if info.num_ack_pending > len(self._held):
            wait = self.owner.spec.policy.ack_wait_s + 1.0
            log.warning(
                "%s: %d messages of a previous process are unacknowledged; waiting %.0f s for "
                "them to come back first, so each tenant's order holds",
                self.durable,
                info.num_ack_pending - len(self._held),
                wait,
            )
            await asyncio.sleep(wait)

    def _dispatch(self, msg: Msg) -> None:
        seq = msg.metadata.sequence.stream
        if seq in self._held:  # a redelivery of a message we still hold: it is being handled
            self._redelivered.setdefault(seq, []).append(msg)
            return
        self._held[seq] = time.monotonic()
        BUFFERED.labels(self.owner.spec.service).inc()
        self._idle.clear()
        tenant = tenant_from_subject(msg.subject)
        self._queues.setdefault(tenant, deque()).append(msg)
        if tenant not in self._workers:
            self._workers[tenant] = asyncio.create_task(self._drain(tenant))

    async def _drain(self, tenant: str) -> None:
        queue = self._queues[tenant]
        try:
            while queue:
                msg = queue[0]
                if msg.metadata.num_delivered >= self.owner.spec.policy.max_deliver:
                    await self.owner.fail(msg, Outcome.MAX_DELIVERIES, None)
                else:
                    await self.owner.handle(msg)
                queue.popleft()
                await self._release(msg.metadata.sequence.stream)
        finally:
            if not queue:
                del self._queues[tenant]
            del self._workers[tenant]
            if not self._workers:
                self._idle.set()

    async def _release(self, seq: int) -> None:
        for later in self._redelivered.pop(seq, []):
            await later.ack()
        self._held.pop(seq, None)
        BUFFERED.labels(self.owner.spec.service).dec()

    async def drained(self) -> None:
        await self._idle.wait()

    def cancel_workers(self) -> None:
        for task in self._workers.values():
            task.cancel()

    async def _heartbeat(self) -> None:
        policy = self.owner.spec.policy
        interval = max(0.1, policy.ack_wait_s / 3)
        last_lag = 0.0
        while True:
            await asyncio.sleep(interval)
            # A message fetched less than an interval ago has two thirds of its ack_wait left
            # and is reached again by the next beat: only older ones need the server told.
            due = time.monotonic() - interval
            for queue in list(self._queues.values()):
                for msg in list(queue):
                    if self._held.get(msg.metadata.sequence.stream, due) <= due:
                        with contextlib.suppress(Exception):
                            await msg.in_progress()
            if time.monotonic() - last_lag >= policy.lag_poll_s:
                last_lag = time.monotonic()
                await self._report_lag()

    async def _report_lag(self) -> None:
        spec = self.owner.spec
        with contextlib.suppress(Exception):
            info = await self.owner._js.consumer_info(spec.stream, self.durable)  # noqa: SLF001
            PENDING.labels(spec.stream, self.durable).set(info.num_pending + info.num_ack_pending)

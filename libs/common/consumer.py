"""The one consumption layer: how every service reads its JetStream streams.

Two shapes, one set of rules:

- `PartitionedConsumer` (router on INTENTS, executor on ORDERS): a durable consumer per owned
  partition (``router-p3``), each message acknowledged on its own once handled, because a
  tenant's order depends on it. Messages are handled in stream order per **ordering key**: the
  tenant, and the ``Sparky-Key`` header its publisher sets (an intent's market, an order's
  account and market). A tenant's messages for one market wait for each other (a close after
  an open, the two legs of a reverse); its other markets and accounts, and other tenants,
  proceed concurrently, up to ``max_concurrency`` handlers at once.
- `BatchConsumer` (ledger, billing, the router's position projection): one durable consumer
  whose handler receives what is ready (up to ``batch_size``, after waiting ``fill_s`` for a
  batch to fill), in stream order, and acknowledges the whole batch with one ack (the consumer
  acks ``all``). Only for projections that are idempotent: a redelivered batch changes nothing.

Both read through `libs.common.pull.Puller`: one long-lived pull request at a time, sized to
the room left, so an idle partition costs one request per ``fetch_timeout_s`` and a busy one a
request per batch. Each holds at most a small multiple of its concurrency (``window``), so a
message rarely waits long enough to need an in-progress ack just to wait its turn.

What happens to a message, decided here once:

- the handler returns → ack;
- it raises `TemporaryError` → retried in place with exponential backoff (later messages of
  its key wait behind it, so order holds). A partitioned consumer gives up after
  ``give_up_after_s`` (``on_failure`` with ``GAVE_UP``, then ack); a batch consumer never
  gives up (a projection must not skip an event). Time spent on `UnavailableError`
  (Postgres, NATS, Redis or Vault away) does not count: such a message waits for the server;
- it raises `MalformedMessageError` (unreadable, or another tenant's on this tenant's subject)
  → dead-lettered at once (``POISON``): no retry can ever handle it;
- it raises anything else → retried ``unexpected_attempts`` times (a failed batch is first
  split into its messages, so one bad event does not hold the others), then the one
  dead-letter rule: ``on_failure`` (``POISON``), a copy to the dead-letter subject, and ack;
- it arrives for the ``max_deliver``-th time (earlier deliveries crashed their process) →
  ``on_failure`` (``MAX_DELIVERIES``), dead-letter, ack, without running the handler again.

Every held message older than a third of ``ack_wait`` gets an in-progress ack every third of
``ack_wait``, so nothing is redelivered while its handler runs or its batch is retried. After a
crash, the messages the dead process held come back when their ``ack_wait`` expires, and
JetStream then serves redeliveries before new messages; so a starting partitioned consumer
that finds unacknowledged messages waits that long first, rather than run a key's newer
message before its older one. ``ack_wait`` is short (4 s by default) so that recovery takes
seconds; the in-progress acks keep a slow exchange call from being redelivered meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from nats.aio.msg import Msg
from nats.js import JetStreamContext, api
from nats.js.errors import APIError, NotFoundError
from opentelemetry import propagate, trace
from prometheus_client import Counter, Gauge, Histogram

from libs.common.errors import MalformedMessageError, TemporaryError, UnavailableError
from libs.common.jetstream import consumer_config
from libs.common.publishing import KEY_HEADER
from libs.common.pull import Puller
from libs.common.redaction import redact
from libs.common.signing import SIGNATURE_HEADER

log = logging.getLogger(__name__)
_tracer = trace.get_tracer(__name__)

MESSAGES = Counter(
    "sparky_consumer_messages_total", "Messages finished, by outcome", ["component", "outcome"]
)
RETRIES = Counter(
    "sparky_consumer_retries_total", "Handler attempts retried", ["component", "kind"]
)
HANDLE_SECONDS = Histogram(
    "sparky_consumer_handle_seconds", "Time from first attempt to ack", ["component"]
)
BUFFERED = Gauge("sparky_consumer_buffered_messages", "Messages held in memory", ["component"])
PENDING = Gauge(
    "sparky_consumer_pending_messages",
    "Messages not yet acknowledged by a durable consumer (lag)",
    ["stream", "consumer"],
)
BATCH_SIZE = Histogram(
    "sparky_consumer_batch_messages",
    "Messages per batch handed to a batch handler",
    ["component"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
)


class Outcome(StrEnum):
    """Why a message was finished without its handler succeeding."""

    GAVE_UP = "gave_up"
    POISON = "poison"
    MAX_DELIVERIES = "max_deliveries"


Handler = Callable[[Msg], Awaitable[None]]
BatchHandler = Callable[[list[Msg]], Awaitable[None]]
FailureHandler = Callable[[Msg, Outcome, BaseException | None], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ConsumerPolicy:
    """Timings and bounds of a consumer.

    ``batch_size`` bounds one pull request (and one batch of a `BatchConsumer`);
    ``fetch_timeout_s`` is how long a pull request stays open; ``window`` how many messages a
    partition holds at most (0: twice ``max_concurrency`` shared by the partitions, at least
    ``MIN_WINDOW``).
    """

    ack_wait_s: float = 4.0
    max_deliver: int = 10
    max_ack_pending: int = 2000
    batch_size: int = 100
    fetch_timeout_s: float = 30.0
    retry_initial_s: float = 0.2
    retry_max_s: float = 10.0
    give_up_after_s: float = 120.0
    unexpected_attempts: int = 3
    max_concurrency: int = 64
    lag_poll_s: float = 5.0
    window: int = 0
    fill_s: float = 0.0

    @classmethod
    def event_batches(cls, batch_size: int, fill_s: float) -> ConsumerPolicy:
        """The policy of a `BatchConsumer` of EVENTS (billing's usage, the notifier): batches
        of up to ``batch_size`` that wait up to ``fill_s`` to fill, 30 s to finish one, retries
        backing off from 0.5 s to 30 s."""
        return cls(
            ack_wait_s=30.0,
            batch_size=batch_size,
            fill_s=fill_s,
            window=batch_size,
            retry_initial_s=0.5,
            retry_max_s=30.0,
        )

    def backoff(self, attempt: int) -> float:
        """Return the pause before retry number ``attempt`` (0-based)."""
        return float(min(self.retry_max_s, self.retry_initial_s * 2**attempt))

    def exhausted(self, msg: Msg) -> bool:
        """Whether ``msg`` arrives for the ``max_deliver``-th time (0 or less: never)."""
        return 0 < self.max_deliver <= msg.metadata.num_delivered

    def window_of(self, partitions: int) -> int:
        """Return how many messages each of ``partitions`` partitions may hold."""
        if self.window:
            return self.window
        return max(MIN_WINDOW, -(-2 * self.max_concurrency // max(partitions, 1)))


MIN_WINDOW = 16


def _raise_if_cancelled() -> None:
    # A timeout inside a cancelled task is a shutdown: do not swallow it.
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def tenant_from_subject(subject: str) -> str:
    """Return the tenant of ``<ns>.<stream>.<p>.<tenant>``: the last token."""
    return subject.rsplit(".", 1)[-1]


def ordering_key(msg: Msg) -> str:
    """Return the key whose messages are handled one at a time, in stream order: the tenant,
    and within it the publisher's ``Sparky-Key`` (a market, an account and market)."""
    tenant = tenant_from_subject(msg.subject)
    key = msg.headers.get(KEY_HEADER) if msg.headers else None
    return f"{tenant}\x00{key}" if key else tenant


async def dead_letter(
    js: JetStreamContext, subject: str, msg: Msg, outcome: Outcome, exc: BaseException | None
) -> None:
    """Copy ``msg`` to the dead-letter ``subject``: the one rule every consumer follows.

    The copy is deduplicated by its stream and sequence, and says where it came from, why it
    was set aside and the error (redacted, capped). A command keeps its signature, so that one
    replayed to its original subject is carried out (and a forgery stays refused).
    """
    meta = msg.metadata
    error = redact(f"{type(exc).__name__}: {exc}" if exc else outcome.value)[:500]
    headers = {
        "Nats-Msg-Id": f"{meta.stream}:{meta.sequence.stream}",
        "Sparky-Original-Subject": msg.subject,
        "Sparky-Stream-Sequence": str(meta.sequence.stream),
        "Sparky-Consumer": meta.consumer or "",
        "Sparky-Outcome": outcome.value,
        "Sparky-Error": error,
    }
    if msg.headers and (signature := msg.headers.get(SIGNATURE_HEADER)):
        headers[SIGNATURE_HEADER] = signature
    await js.publish(subject, msg.data, headers=headers)
    log.error(
        "message dead-lettered",
        extra={"subject": msg.subject, "outcome": outcome.value, "error": error},
    )


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
        window = spec.policy.window_of(len(spec.partitions))
        self._partitions = [_Partition(self, p, window) for p in spec.partitions]
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
            except MalformedMessageError as exc:
                log.warning("malformed message dead-lettered: %s", exc)
                return await self.fail(msg, Outcome.POISON, exc)
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
        """Report the failure, dead-letter if poisonous, ack."""
        spec = self.spec
        await _set_aside(
            self._js,
            msg,
            outcome,
            exc,
            deadletter_subject=spec.deadletter_subject,
            on_failure=spec.on_failure,
            policy=spec.policy,
        )
        await msg.ack()
        MESSAGES.labels(spec.service, outcome.value).inc()


async def _set_aside(
    js: JetStreamContext,
    msg: Msg,
    outcome: Outcome,
    exc: BaseException | None,
    *,
    deadletter_subject: str,
    on_failure: FailureHandler | None,
    policy: ConsumerPolicy,
) -> None:
    """Report a message finished without its handler succeeding (``on_failure``) and, unless
    it was given up, copy it to the dead-letter subject; retry until both got out, since the
    message is acknowledged next."""
    attempt = 0
    while True:
        try:
            if on_failure is not None:
                await on_failure(msg, outcome, exc)
            if outcome is not Outcome.GAVE_UP:
                await dead_letter(js, deadletter_subject, msg, outcome, exc)
        except Exception:  # the report must get out; keep the message meanwhile
            log.exception("could not report a failed message; retrying")
            await asyncio.sleep(policy.backoff(attempt))
            attempt += 1
        else:
            return


async def _heartbeat(
    js: JetStreamContext,
    stream: str,
    durable: str,
    held: dict[int, tuple[Msg, float]],
    policy: ConsumerPolicy,
) -> None:
    """Every third of ``ack_wait``, keep the held messages alive; every ``lag_poll_s``,
    report the consumer's lag."""
    interval = max(0.1, policy.ack_wait_s / 3)
    last_lag = 0.0
    while True:
        await asyncio.sleep(interval)
        # A message fetched less than an interval ago has two thirds of its ack_wait left
        # and is reached again by the next beat: only older ones need the server told.
        await _keep_alive(held, interval)
        if time.monotonic() - last_lag >= policy.lag_poll_s:
            last_lag = time.monotonic()
            await _report_lag(js, stream, durable)


async def _keep_alive(held: dict[int, tuple[Msg, float]], interval: float) -> None:
    """Send an in-progress ack for every held message older than ``interval``."""
    due = time.monotonic() - interval
    for msg, since in list(held.values()):
        if since <= due:
            with contextlib.suppress(Exception):
                await msg.in_progress()


async def _report_lag(js: JetStreamContext, stream: str, durable: str) -> None:
    with contextlib.suppress(Exception):
        info = await js.consumer_info(stream, durable)
        PENDING.labels(stream, durable).set(info.num_pending + info.num_ack_pending)


class _Partition:
    """One durable consumer and the per-key queues of its messages."""

    def __init__(self, owner: PartitionedConsumer, p: int, window: int) -> None:
        self.owner, self.p = owner, p
        spec = owner.spec
        self.durable = f"{spec.service}-p{p}"
        self.window = window
        self.stopping = False
        self._queues: dict[str, deque[Msg]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._held: dict[int, tuple[Msg, float]] = {}  # stream sequence -> (msg, fetched at)
        # Later deliveries of a message we still hold; acked with it, so none is left pending.
        self._redelivered: dict[int, list[Msg]] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        self._room = asyncio.Event()

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
        await _create_or_update(self.owner._js, spec.stream, config)  # noqa: SLF001

    async def run(self) -> None:
        """Fetch and dispatch until stopped; a failed fetch loop (NATS away, consumer deleted)
        is logged and started again, never left dead.
        """
        spec = self.owner.spec
        beat = asyncio.create_task(
            _heartbeat(self.owner._js, spec.stream, self.durable, self._held, spec.policy)  # noqa: SLF001
        )
        try:
            while not self.stopping:
                try:
                    await self._fetch_loop()
                except Exception:  # logged loudly; the loop is the partition's only worker
                    _raise_if_cancelled()
                    log.exception("%s: fetch loop failed; restarting", self.durable)
                    await asyncio.sleep(1.0)
        finally:
            beat.cancel()

    async def _fetch_loop(self) -> None:
        js, spec = self.owner._js, self.owner.spec  # noqa: SLF001
        await self.bind()
        policy = spec.policy
        # Ask again once half the window is free (or all is idle): a batch per request.
        low_water = max(1, self.window // 2)
        async with Puller.of(
            js, spec.stream, self.durable, expires_s=policy.fetch_timeout_s, service=spec.service
        ) as puller:
            await self._await_redeliveries()
            while not self.stopping:
                room = self.window - len(self._held)
                if room < low_water and self._held:
                    self._room.clear()
                    await self._room.wait()
                    continue
                msgs = await puller.take(min(room, policy.batch_size))
                for msg in msgs:
                    self._dispatch(msg)

    async def _await_redeliveries(self) -> None:
        info = await self.owner._js.consumer_info(self.owner.spec.stream, self.durable)  # noqa: SLF001
        # Messages this process still holds (the fetch loop restarted after a NATS hiccup)
        # are being handled here: only unacknowledged messages beyond those are another's.
        if info.num_ack_pending > len(self._held):
            wait = self.owner.spec.policy.ack_wait_s + 0.5
            log.warning(
                "%s: %d messages of a previous process are unacknowledged; waiting %.1f s for "
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
        self._held[seq] = (msg, time.monotonic())
        BUFFERED.labels(self.owner.spec.service).inc()
        self._idle.clear()
        key = ordering_key(msg)
        self._queues.setdefault(key, deque()).append(msg)
        if key not in self._workers:
            self._workers[key] = asyncio.create_task(self._drain(key))

    async def _drain(self, key: str) -> None:
        queue = self._queues[key]
        try:
            while queue:
                msg = queue[0]
                if self.owner.spec.policy.exhausted(msg):
                    await self.owner.fail(msg, Outcome.MAX_DELIVERIES, None)
                else:
                    await self.owner.handle(msg)
                queue.popleft()
                await self._release(msg.metadata.sequence.stream)
        finally:
            if not queue:
                del self._queues[key]
            del self._workers[key]
            if not self._workers:
                self._idle.set()

    async def _release(self, seq: int) -> None:
        for later in self._redelivered.pop(seq, []):
            await later.ack()
        self._held.pop(seq, None)
        BUFFERED.labels(self.owner.spec.service).dec()
        self._room.set()

    async def drained(self) -> None:
        await self._idle.wait()

    def cancel_workers(self) -> None:
        for task in self._workers.values():
            task.cancel()


async def _create_or_update(js: JetStreamContext, stream: str, config: api.ConsumerConfig) -> None:
    """Create the durable consumer, or update the one that exists (the server keeps its
    position and takes the new ack_wait, max_deliver and max_ack_pending)."""
    try:
        await js.add_consumer(stream, config)
    except APIError as exc:  # a field that cannot change: keep the existing consumer
        log.warning("consumer %s exists with another configuration: %s", config.durable_name, exc)


@dataclass(frozen=True, slots=True)
class BatchSpec:
    """One durable consumer whose handler takes batches, acked with one ack each."""

    service: str
    stream: str
    durable: str
    filter_subject: str
    handler: BatchHandler
    deadletter_subject: str
    policy: ConsumerPolicy = ConsumerPolicy(
        ack_wait_s=30.0, batch_size=200, fill_s=0.05, window=400
    )
    on_failure: FailureHandler | None = None
    before_bind: Callable[[], Awaitable[None]] | None = None
    """Run before (re)binding, e.g. to re-create a stream a wiped NATS lost."""


class BatchConsumer:
    """Hand what is ready to a batch handler, in stream order; one ack per batch.

    A batch is what arrived within ``fill_s`` of its first message (at most ``batch_size``);
    after a batch that did not fill, the consumer waits ``fill_s`` before taking the next.

    The consumer acknowledges ``all``: acking a batch's last message acknowledges the batch.
    A batch that fails with a `TemporaryError` is retried in place (forever: a projection
    must not skip an event; time on `UnavailableError` is expected). One that fails otherwise
    is split: its messages are handled one by one, and one that keeps failing is
    dead-lettered, so a bad event holds up neither the others nor the stream.
    """

    def __init__(self, js: JetStreamContext, spec: BatchSpec) -> None:
        self._js = js
        self.spec = spec
        self._task: asyncio.Task[None] | None = None
        self._held: dict[int, tuple[Msg, float]] = {}
        self._stopping = False
        self.position = 0  # the last stream sequence acknowledged

    async def start(self) -> None:
        """Create (or convert) the durable consumer and start consuming."""
        self._stopping = False
        await self.bind()
        self._task = asyncio.create_task(self._run(), name=self.spec.durable)

    async def stop(self) -> None:
        """Stop at once: a batch being handled is redelivered (handlers are idempotent)."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def bind(self) -> None:
        """Create the consumer acking ``all``; an older explicitly acked one is replaced by
        one that starts just past its acknowledged floor, so nothing is skipped."""
        spec, policy = self.spec, self.spec.policy
        if spec.before_bind is not None:
            await spec.before_bind()
        config = batch_consumer_config(
            spec.durable,
            spec.filter_subject,
            ack_wait_s=policy.ack_wait_s,
            max_ack_pending=max(policy.window, policy.batch_size) * 2,
        )
        try:
            info = await self._js.consumer_info(spec.stream, spec.durable)
        except NotFoundError:
            info = None
        if info is not None and info.config.ack_policy != api.AckPolicy.ALL:
            floor = info.ack_floor.stream_seq if info.ack_floor else 0
            log.warning(
                "%s: replacing an explicitly acked consumer by one acking batches, from %d",
                spec.durable,
                floor + 1,
            )
            await self._js.delete_consumer(spec.stream, spec.durable)
            if floor > 0:
                config = replace(
                    config,
                    deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
                    opt_start_seq=floor + 1,
                )
        await _create_or_update(self._js, spec.stream, config)

    async def _run(self) -> None:
        spec = self.spec
        beat = asyncio.create_task(
            _heartbeat(self._js, spec.stream, spec.durable, self._held, spec.policy)
        )
        try:
            while not self._stopping:
                try:
                    await self._consume()
                except Exception:  # NATS away, consumer deleted: bind again
                    _raise_if_cancelled()
                    log.exception("%s: consuming failed; starting again", self.spec.durable)
                    await asyncio.sleep(1.0)
                    with contextlib.suppress(Exception):
                        await self.bind()
        finally:
            beat.cancel()

    async def _consume(self) -> None:
        spec, policy = self.spec, self.spec.policy
        async with Puller.of(
            self._js,
            spec.stream,
            spec.durable,
            expires_s=policy.fetch_timeout_s,
            service=spec.service,
        ) as puller:
            while not self._stopping:
                msgs = await puller.take(policy.batch_size, fill_s=policy.fill_s)
                now = time.monotonic()
                for msg in msgs:
                    self._held[msg.metadata.sequence.stream] = (msg, now)
                try:
                    await self.handle(msgs)
                finally:
                    self._held.clear()
                if len(msgs) < policy.batch_size and policy.fill_s:
                    # A batch that did not fill: let the next one gather for as long again
                    # (at low rates, half the batches; a busy stream never waits here).
                    await asyncio.sleep(policy.fill_s)

    async def handle(self, msgs: list[Msg]) -> None:
        """Handle one batch until it is done, then ack it with one ack."""
        BATCH_SIZE.labels(self.spec.service).observe(len(msgs))
        policy = self.spec.policy
        done = [m for m in msgs if not policy.exhausted(m)]
        for msg in msgs:
            if policy.exhausted(msg):
                await self._set_aside(msg, Outcome.MAX_DELIVERIES, None)
        if done:
            try:
                await self._retrying(done)
            except _PoisonedError:
                for msg in done:
                    try:
                        await self._retrying([msg])
                    except _PoisonedError as bad:
                        await self._set_aside(msg, Outcome.POISON, bad.cause)
        await msgs[-1].ack()
        self.position = msgs[-1].metadata.sequence.stream
        MESSAGES.labels(self.spec.service, "acked").inc(len(msgs))

    async def _retrying(self, msgs: list[Msg]) -> None:
        policy = self.spec.policy
        attempt = unexpected = 0
        while True:
            try:
                await self.spec.handler(msgs)
            except TemporaryError as exc:
                waiting = isinstance(exc, UnavailableError)
                RETRIES.labels(self.spec.service, "unavailable" if waiting else "temporary").inc()
                delay = exc.retry_after if exc.retry_after is not None else policy.backoff(attempt)
                log.warning("batch not handled yet, retrying in %.1f s: %s", delay, exc.message)
            except Exception as exc:
                RETRIES.labels(self.spec.service, "unexpected").inc()
                unexpected += 1
                log.exception("batch handler failed (attempt %d)", unexpected)
                if unexpected >= policy.unexpected_attempts:
                    raise _PoisonedError(exc) from exc
                delay = policy.backoff(attempt)
            else:
                return
            attempt += 1
            await asyncio.sleep(delay)

    async def _set_aside(self, msg: Msg, outcome: Outcome, exc: BaseException | None) -> None:
        spec = self.spec
        await _set_aside(
            self._js,
            msg,
            outcome,
            exc,
            deadletter_subject=spec.deadletter_subject,
            on_failure=spec.on_failure,
            policy=spec.policy,
        )
        MESSAGES.labels(spec.service, outcome.value).inc()


class _PoisonedError(Exception):
    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


def batch_consumer_config(
    durable: str, filter_subject: str, *, ack_wait_s: float, max_ack_pending: int
) -> api.ConsumerConfig:
    """Return a durable pull consumer acking ``all``, never giving up a message."""
    return replace(
        consumer_config(
            durable,
            filter_subject,
            ack_wait_s=ack_wait_s,
            max_deliver=-1,
            max_ack_pending=max_ack_pending,
        ),
        ack_policy=api.AckPolicy.ALL,
    )

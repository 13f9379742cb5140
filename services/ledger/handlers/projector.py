"""The projector: EVENTS → Postgres, in batches, exactly once, in stream order.

One projector leads at a time (a Postgres advisory lock held on the very connection that
commits the batches, so a projector that lost its connection cannot commit anything more);
others stand by. The leader positions the ``ledger`` consumer just after the last applied
event, then fetches, decodes, applies each batch in one transaction and acks it. Any failure
(database or NATS down, a bug) ends the lead: it starts over from what the database holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from nats.aio.client import Client
from nats.aio.msg import Msg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.common.messages.types import utcnow
from libs.common.pull import Puller
from libs.common.topology import Topology
from services.ledger import metrics
from services.ledger.config import CONSUMER, SERVICE, LedgerSettings
from services.ledger.domain.rows import Poison, Sequenced
from services.ledger.handlers.codec import decode, poison
from services.ledger.handlers.consumer import position
from services.ledger.store import progress
from services.ledger.store.batch import Batch, Outcome, apply_batch
from services.ledger.store.progress import cannot_apply

log = logging.getLogger(__name__)
MAX_BACKOFF_S = 30.0
EXPIRES_S = 30.0  # one long-lived pull request: an idle ledger costs one per 30 s


@dataclass(frozen=True, slots=True)
class _Fetched:
    """A batch as fetched: the messages (to ack), by stream sequence, and decoded."""

    msgs: list[Msg]
    raw: dict[int, Msg]
    batch: Batch
    at: float  # perf_counter when it was decoded


class ProjectorBusyError(RuntimeError):
    """Another projector holds the lead (the service is running)."""


class Projector:
    """Keep the projections of one schema up to date with the EVENTS stream."""

    def __init__(
        self,
        settings: LedgerSettings,
        engine: AsyncEngine,
        nc: Client,
        topology: Topology,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._settings = settings
        self._engine = engine
        self._nc = nc
        self._js = nc.jetstream()
        self._topology = topology
        self._clock = clock
        self._lock_key = f"sparky-ledger-projector:{settings.schema_name}"
        self.position = 0  # last stream sequence applied, once leading

    async def run(self) -> None:
        """Project until cancelled; after a failure, wait and start over from the database."""
        backoff = self._settings.retry_backoff_s
        while True:
            try:
                await self._lead(until=None, lock_timeout_s=None)
            except Exception:
                log.exception("projector stopped; starting over from the last applied event")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)

    async def rebuild(self, until_seq: int, *, lock_timeout_s: float) -> None:
        """Empty the projections and apply the stream from its first event up to
        ``until_seq`` (or until none is left); raise `ProjectorBusyError` if another
        projector keeps the lead for ``lock_timeout_s``.
        """
        await self._lead(until=until_seq, lock_timeout_s=lock_timeout_s, reset=True)

    async def _lead(
        self, *, until: int | None, lock_timeout_s: float | None, reset: bool = False
    ) -> None:
        async with self._engine.connect() as conn:
            await self._take_lock(conn, lock_timeout_s)
            try:
                if reset:
                    await progress.truncate_projections(conn)
                self.position = await progress.last_applied_seq(
                    conn, self._stream, role=self._settings.writer_role
                )
                await position(self._js, self._topology, self._settings, self.position + 1)
                async with Puller.of(
                    self._js, self._stream, CONSUMER, expires_s=EXPIRES_S, service=SERVICE
                ) as puller:
                    await self._consume(conn, puller, until)
            finally:
                with contextlib.suppress(Exception):
                    await progress.unlock(conn, self._lock_key)

    async def _take_lock(self, conn: AsyncConnection, timeout_s: float | None) -> None:
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        announced = False
        while not await progress.try_lock(conn, self._lock_key):
            if deadline is not None and time.monotonic() >= deadline:
                raise ProjectorBusyError("another ledger projector is running; stop it first")
            if not announced:
                log.info("another projector leads; standing by")
                announced = True
            await asyncio.sleep(self._settings.lock_poll_s)
        log.info("projector leading", extra={"schema": self._settings.schema_name})

    async def _consume(self, conn: AsyncConnection, puller: Puller, until: int | None) -> None:
        # The next batch is fetched and decoded while this one is applied, so NATS, this
        # process and Postgres all work at once.
        pending = self._fetch(puller)
        try:
            while until is None or self.position < until:
                fetched = await pending
                pending = self._fetch(puller)
                if fetched is not None:
                    await self._handle(conn, fetched)
                    continue
                metrics.LAG.set(0)
                metrics.PENDING.set(0)
                if until is not None:
                    return  # nothing left to fetch
        finally:
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await pending

    def _fetch(self, puller: Puller) -> asyncio.Task[_Fetched | None]:
        return asyncio.create_task(self._fetch_and_decode(puller))

    async def _fetch_and_decode(self, puller: Puller) -> _Fetched | None:
        settings = self._settings
        msgs = await puller.take(
            settings.batch_size, fill_s=settings.batch_wait_s, timeout_s=settings.idle_poll_s
        )
        if not msgs:
            return None
        raw = {msg.metadata.sequence.stream: msg for msg in msgs}
        decoded = [decode(s, raw[s].subject, raw[s].data, self._topology) for s in sorted(raw)]
        batch = Batch(
            events=tuple(d for d in decoded if isinstance(d, Sequenced)),
            poison=tuple(d for d in decoded if isinstance(d, Poison)),
            last_seq=max(raw),
        )
        return _Fetched(msgs, raw, batch, time.perf_counter())

    async def _handle(self, conn: AsyncConnection, fetched: _Fetched) -> None:
        batch = fetched.batch
        try:
            outcome = await self._apply(conn, batch)
        except Exception as exc:
            if not cannot_apply(exc):
                raise
            log.warning("a batch failed to apply; applying its events one by one")
            outcome = await self._apply_one_by_one(conn, batch, fetched.raw)
        await fetched.raw[batch.last_seq].ack()  # the consumer acks all up to it
        self.position = batch.last_seq
        self._observe(batch, outcome, fetched.msgs[-1], time.perf_counter() - fetched.at)

    async def _apply(self, conn: AsyncConnection, batch: Batch) -> Outcome:
        role, stream = self._settings.writer_role, self._stream
        return await apply_batch(conn, batch, role=role, stream=stream)

    async def _apply_one_by_one(
        self, conn: AsyncConnection, batch: Batch, raw: dict[int, Msg]
    ) -> Outcome:
        applied: list[Sequenced] = []
        duplicates = 0
        bad = list(batch.poison)
        for item in batch.events:
            try:
                outcome = await self._apply(conn, Batch((item,), (), item.seq))
            except Exception as exc:
                if not cannot_apply(exc):
                    raise
                msg = raw[item.seq]
                reason = f"cannot apply: {getattr(exc, 'orig', None) or exc}"
                bad.append(poison(item.seq, msg.subject, msg.data, reason))
                continue
            applied.extend(outcome.applied)
            duplicates += outcome.duplicates
        role, stream = self._settings.writer_role, self._stream
        for record in bad:
            await progress.record_poison(conn, record, role=role, stream=stream)
        await self._apply(conn, Batch((), (), batch.last_seq))  # the position, past them all
        return Outcome(tuple(applied), duplicates, tuple(bad))

    def _observe(self, batch: Batch, outcome: Outcome, last: Msg, seconds: float) -> None:
        for item in outcome.applied:
            metrics.EVENTS_APPLIED.labels(kind=item.event.kind).inc()
        metrics.DUPLICATES.inc(outcome.duplicates)
        metrics.POISON.inc(len(outcome.set_aside))
        for bad in outcome.set_aside:
            log.error("poison event set aside: %s", bad.error, extra={"stream_seq": bad.seq})
        metrics.BATCH_SIZE.observe(len(batch.events) + len(batch.poison))
        metrics.BATCH_SECONDS.observe(seconds)
        metrics.PENDING.set(last.metadata.num_pending)
        if batch.last_occurred_at is not None:
            lag = (self._clock() - batch.last_occurred_at).total_seconds()
            metrics.LAG.set(max(lag, 0.0))

    @property
    def _stream(self) -> str:
        return self._topology.events_stream

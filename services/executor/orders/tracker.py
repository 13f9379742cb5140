"""Follow open orders until they are filled or canceled, with bounded concurrency.

Every ``interval_s`` the tracker reads the open orders of the partitions this replica owns
(and the unresolved ones already reported failed) and asks the exchange about those due; what
is new (fills, the end) is emitted by `Outcomes.adopt`. A failing exchange or account only
delays its own orders until the next round. An order is asked about every round while young,
then less often as it ages (a limit order resting for hours is asked about once a minute), so
open orders do not spend the address's request weight; unresolved ones are asked every round.
Its requests wait behind orders' for the weight budget.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from libs.common.errors import SparkyError
from libs.common.fsm import OPEN, UNRESOLVED, OrderState
from libs.common.logs import log_context
from services.executor.accounts.sessions import Sessions
from services.executor.adapters.exchange import ExchangeSession
from services.executor.adapters.metering import routine
from services.executor.domain import OrderRecord, Protection
from services.executor.errors import AccountAuthError
from services.executor.metrics import OPEN_ORDERS
from services.executor.orders.outcomes import Outcomes
from services.executor.orders.periodic import Periodic
from services.executor.orders.protector import Protector
from services.executor.orders.submission import Via, look_up, observe

log = logging.getLogger(__name__)
PROTECTIVE_POLL_S = 10.0


@dataclass(frozen=True, slots=True)
class PollBackoff:
    """How often an open order is asked about, by its age."""

    young_s: float = 30.0
    """Until this age, every round."""
    age_fraction: float = 0.1
    """After it, every ``age x age_fraction`` (an hour-old order: every 6 min, capped)."""
    max_s: float = 60.0

    def interval_s(self, age_s: float, round_s: float) -> float:
        """Return how long after a poll an order ``age_s`` old is asked about again."""
        if age_s < self.young_s:
            return round_s
        return max(round_s, min(self.max_s, age_s * self.age_fraction))


class PollSchedule:
    """When each tracked order is next due (in memory: a restart asks about all at once)."""

    def __init__(self, backoff: PollBackoff, round_s: float) -> None:
        self._backoff = backoff
        self._round_s = round_s
        self._next: dict[str, datetime] = {}

    def due(self, records: Sequence[OrderRecord], now: datetime) -> list[OrderRecord]:
        """Return the records to ask about now, forgetting those no longer tracked."""
        tracked = {r.client_order_id for r in records}
        for gone in self._next.keys() - tracked:
            del self._next[gone]
        return [
            r
            for r in records
            if r.state in UNRESOLVED
            or r.client_order_id not in self._next
            or now >= self._next[r.client_order_id]
        ]

    def polled(self, record: OrderRecord, now: datetime) -> None:
        """Note that ``record``'s order was asked about at ``now``."""
        age_s = (now - record.created_at).total_seconds()
        wait = self._backoff.interval_s(age_s, self._round_s)
        if record.protective:  # its fill must cancel its sibling soon, however old it is
            wait = min(wait, max(self._round_s, PROTECTIVE_POLL_S))
        # A little early, so an order due every round is not put off by a round's jitter.
        self._next[record.client_order_id] = now + timedelta(seconds=wait - self._round_s / 2)


class Tracker:
    """Poll the exchange about open orders."""

    def __init__(
        self,
        sessions: Sessions,
        outcomes: Outcomes,
        partitions: Sequence[int],
        *,
        protector: Protector | None = None,
        interval_s: float = 2.0,
        concurrency: int = 16,
        backoff: PollBackoff | None = None,
    ) -> None:
        self._sessions = sessions
        self._out = outcomes
        self._protector = protector
        self._partitions = tuple(partitions)
        self._slots = asyncio.Semaphore(concurrency)
        self._schedule = PollSchedule(backoff or PollBackoff(), interval_s)
        self._loop = Periodic("executor-tracker", self.run_once, interval_s)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def run_once(self) -> int:
        """Check the tracked orders that are due; return how many were checked."""
        records = await self._out.orders.to_track(self._partitions)
        OPEN_ORDERS.set(sum(1 for r in records if r.state in OPEN))
        due = self._schedule.due(records, self._out.clock())
        with routine():
            await asyncio.gather(*(self._guarded(r) for r in due))
        return len(due)

    async def _guarded(self, record: OrderRecord) -> None:
        async with self._slots:
            with log_context(tenant_id=record.tenant_id, intent_id=record.intent_id):
                try:
                    await self._track(record)
                    self._schedule.polled(record, self._out.clock())
                except AccountAuthError as exc:
                    await self._out.note_refusal(record, exc)
                except SparkyError as exc:  # temporary trouble, a stale record: next round
                    log.info("order %s not checked: %s", record.client_order_id, exc)

    async def _track(self, record: OrderRecord) -> None:
        account = await self._sessions.account_of(record.tenant_id, record.account_label)
        if account is None:
            return  # removed meanwhile: nothing can be asked with its keys any more
        async with self._sessions.lease(account) as session:
            if record.state in UNRESOLVED:
                await self._resolve(record, session)
            elif record.state in OPEN and record.conditional:
                found = await observe(session, record)
                if found is not None:
                    await self._out.adopt(record, found, session)
            elif record.state in OPEN and record.exchange_order_id is not None:
                order = await session.fetch(record.symbol, record.exchange_order_id)
                await self._out.adopt(record, order, session)
            elif record.protection is Protection.OWED:
                await self._protect(record, session)

    async def _protect(self, entry: OrderRecord, session: ExchangeSession) -> None:
        """Place the protective orders a filled entry still owes (after a crash, or after the
        exchange was unavailable), or report them failed once that has taken too long."""
        protector = self._protector
        if protector is None or await protector.give_up_if_due(entry):
            return
        await protector.protect(entry, session)

    async def _resolve(self, record: OrderRecord, session: ExchangeSession) -> None:
        now = self._out.clock()
        found = await look_up(session, record, Via.TRACKER, now)
        if found is not None:
            await self._out.adopt(record, found, session)
            return
        if session.settled(record.sent_at, now):
            # Reported uncertain; now it is known the exchange never had it: final.
            given = f"{record.reason} " if record.reason else ""
            reason = f"{given}The exchange never received the order: it was not placed."
            await self._out.emitter.failed(record, reason)
            await self._out.orders.save(record.moved(OrderState.FAILED, now, reason=reason))

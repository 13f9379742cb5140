"""Follow open orders until they are filled or canceled, with bounded concurrency.

Every ``interval_s`` the tracker reads the open orders of the partitions this replica owns
(and the unresolved ones already reported failed) and asks the exchange about each; what is
new (fills, the end) is emitted by the `Reconciler`. A failing exchange or account only
delays its own orders until the next round.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from libs.common.errors import SparkyError
from libs.common.fsm import OPEN, UNRESOLVED, OrderState
from libs.common.logs import log_context
from services.executor.adapters.exchange import ExchangeSession
from services.executor.errors import AccountAuthError
from services.executor.lookups import Via, look_up
from services.executor.metrics import OPEN_ORDERS
from services.executor.models import OrderRecord
from services.executor.outcomes import Outcomes
from services.executor.sessions import Sessions

log = logging.getLogger(__name__)


class Tracker:
    """Poll the exchange about open orders."""

    def __init__(
        self,
        sessions: Sessions,
        outcomes: Outcomes,
        partitions: Sequence[int],
        *,
        interval_s: float = 2.0,
        concurrency: int = 16,
    ) -> None:
        self._sessions = sessions
        self._out = outcomes
        self._partitions = tuple(partitions)
        self._interval_s = interval_s
        self._slots = asyncio.Semaphore(concurrency)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="executor-tracker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run_once(self) -> int:
        """Check every tracked order once; return how many were checked."""
        records = await self._out.orders.to_track(self._partitions)
        OPEN_ORDERS.set(sum(1 for r in records if r.state in OPEN))
        await asyncio.gather(*(self._guarded(r) for r in records))
        return len(records)

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("order tracking round failed")
            await asyncio.sleep(self._interval_s)

    async def _guarded(self, record: OrderRecord) -> None:
        async with self._slots:
            with log_context(tenant_id=record.tenant_id, intent_id=record.intent_id):
                try:
                    await self._track(record)
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
            elif record.exchange_order_id is not None:
                order = await session.fetch(record.symbol, record.exchange_order_id)
                await self._out.adopt(record, order, session)

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

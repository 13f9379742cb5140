"""Place one `PlaceOrder` exactly once.

1. Resolve the account and its keys; refuse an order whose signal is older than the tenant
   allows (``stale_signal``); size it against live data and the strategy position; record it
   as ``pending`` (unique client order id; coins the wallet no longer holds are written off the
   strategy position in the same statement) and report what sizing found (``position.drift``);
   only then call the exchange.
2. A known client order id is never submitted blindly: when the record exists already (a
   redelivery, a restart), a record in ``pending``/``uncertain`` is looked up on the exchange
   by client order id first; any other record is done (its events are out).
3. A creation that ends without an answer moves the record to ``uncertain`` and raises a
   `TemporaryError`: the retry finds the record and looks the order up (step 2). A look-up
   that finds nothing allows a resubmission only once the first creation can no longer reach
   the exchange (``settle_s`` after it was recorded as sent: signed within the call's bound,
   its timestamp is then past the venue's receive window), since some exchanges accept a
   client order id again once its first order is closed. A creation the exchange turned away
   (a rate limit) keeps its sending time: it is settled by the same rule, not assumed unsent.
"""

from __future__ import annotations

import dataclasses

from libs.common.fsm import UNRESOLVED, OrderState
from libs.common.messages import PlaceOrder
from services.executor import drift
from services.executor.adapters.exchange import ExchangeSession
from services.executor.domain import SizedOrder
from services.executor.errors import (
    CreationRefusedError,
    DuplicateClientOrderIdError,
    OrderFailedError,
    OrderRejectedError,
    SizingRefusedError,
    SubmissionUnconfirmedError,
)
from services.executor.lookups import Via, look_up
from services.executor.metrics import ORDERS, WEBHOOK_TO_EXCHANGE_SECONDS
from services.executor.models import OrderRecord, TradingAccount
from services.executor.outcomes import Outcomes
from services.executor.sessions import Sessions
from services.executor.sizing import check_fresh, size
from services.executor.unsupported import CODE as UNSUPPORTED
from services.executor.unsupported import unsupported_reason

Refusal = OrderRejectedError | OrderFailedError


class Executor:
    """Handle `PlaceOrder` commands."""

    def __init__(self, sessions: Sessions, outcomes: Outcomes) -> None:
        self._sessions = sessions
        self._out = outcomes
        self._orders = outcomes.orders

    async def place(self, command: PlaceOrder) -> OrderRecord:
        """Place the order, or find what became of it; return its record."""
        record = await self._attempt(command)
        ORDERS.labels(record.exchange_id, record.state.value).inc()
        return record

    async def _attempt(self, command: PlaceOrder) -> OrderRecord:
        # No read first: recording the order is the check. A redelivery's insert finds the
        # earlier record (unique client order id) and resumes it instead of submitting.
        try:
            account = await self._supported_account(command)
            check_fresh(command, self._out.clock())
            async with self._sessions.lease(account) as session:
                sized = await size(command, session, self._orders.position)
                record, created = await self._orders.create(self._pending(command, sized))
                if not created:
                    return await self._resume(command, record)
                await self._report_sizing(record)
                return await self._drive(record, session)
        except (OrderRejectedError, OrderFailedError) as exc:
            return await self.refuse(command, exc)

    def _pending(self, command: PlaceOrder, sized: SizedOrder) -> OrderRecord:
        """Return the record of an order about to be sent, as sizing made it."""
        fresh = self._out.new_record(command, OrderState.PENDING)
        return dataclasses.replace(
            fresh,
            side=sized.side,
            amount=sized.amount,
            price=sized.price,
            sent_at=fresh.created_at,
            position_before=sized.position_before,
            written_off=sized.written_off,
            healed=sized.healed,
            note=" ".join(sized.notes) or None,
        )

    async def _report_sizing(self, record: OrderRecord) -> None:
        """Publish what sizing found (coins written off, a position restored): again after a
        crash, with the same ids.
        """
        for found in drift.before_order(record):
            await self._out.emitter.drift(record, found)

    async def _supported_account(self, command: PlaceOrder) -> TradingAccount:
        """Return the order's account, or refuse an order it cannot place as asked."""
        account = await self._sessions.account(command)
        reason = unsupported_reason(command, account.market_type)
        if reason is not None:
            raise OrderRejectedError(UNSUPPORTED, reason)
        return account

    async def _resume(self, command: PlaceOrder, record: OrderRecord) -> OrderRecord:
        if record.tenant_id != command.tenant_id:
            return await self._out.foreign(command)
        if record.state in {OrderState.REJECTED, OrderState.FAILED}:
            await self._report_sizing(record)  # its events may not have gone out before a crash
            await self._out.repeat(record)
            return record
        if record.state not in UNRESOLVED:
            return record
        await self._report_sizing(record)
        try:
            account = await self._sessions.account(command)
            async with self._sessions.lease(account) as session:
                return await self._look_up(record, session, resubmit=True)
        except (OrderRejectedError, OrderFailedError) as exc:
            return await self._out.conclude(record, exc)

    async def _drive(self, record: OrderRecord, session: ExchangeSession) -> OrderRecord:
        """Submit a ``pending`` record's order and adopt the exchange's answer."""
        if record.amount is None:
            raise RuntimeError(f"order {record.client_order_id} has no amount to submit")
        try:
            order = await session.create(
                symbol=record.symbol,
                order_type=record.order_type,
                side=record.side,
                amount=record.amount,
                price=record.price,
                client_order_id=record.client_order_id,
            )
        except SubmissionUnconfirmedError:
            await self._orders.save(record.moved(OrderState.UNCERTAIN, self._out.clock()))
            raise
        except CreationRefusedError:
            # Turned away, most likely unprocessed; but the record keeps its sending time, so
            # the retry looks the order up and resubmits only once a late arrival is ruled out.
            raise
        except DuplicateClientOrderIdError:
            return await self._look_up(record, session, resubmit=False)
        except (OrderRejectedError, OrderFailedError) as exc:
            return await self._out.conclude(record, exc)
        elapsed = self._out.clock() - record.received_at
        WEBHOOK_TO_EXCHANGE_SECONDS.observe(elapsed.total_seconds())
        return await self._out.adopt(record, order, session)

    async def _look_up(
        self, record: OrderRecord, session: ExchangeSession, *, resubmit: bool
    ) -> OrderRecord:
        now = self._out.clock()
        via = Via.REDELIVERY if resubmit else Via.DUPLICATE_ID
        found = await look_up(session, record, via, now)
        if found is not None:
            return await self._out.adopt(record, found, session)
        if not resubmit:
            reason = "The exchange reported this client order id as taken but has no such order."
            return await self._out.conclude(record, OrderFailedError("duplicate_id", reason))
        if not session.settled(record.sent_at, now):
            raise SubmissionUnconfirmedError(
                "the exchange did not confirm the order yet; it is looked up again before "
                "any resubmission",
                retry_after=min(1.0, session.settle_s),
            )
        record = await self._orders.save(record.moved(OrderState.PENDING, now, sent_at=now))
        return await self._drive(record, session)

    async def refuse(self, command: PlaceOrder, exc: Refusal) -> OrderRecord:
        """Record and report an order refused before it reached the exchange (writing off
        coins sizing found gone from the wallet, in the same statement).
        """
        state = OrderState.REJECTED if isinstance(exc, OrderRejectedError) else OrderState.FAILED
        fresh = dataclasses.replace(
            self._out.new_record(command, state), reason=exc.message, reason_code=exc.code
        )
        if isinstance(exc, SizingRefusedError):
            fresh = dataclasses.replace(
                fresh, position_before=exc.position_before, written_off=exc.written_off
            )
        record, created = await self._orders.create(fresh)
        if not created:
            return await self._resume(command, record)
        await self._out.note_refusal(record, exc)
        await self._report_sizing(record)
        await self._out.repeat(record)
        return record

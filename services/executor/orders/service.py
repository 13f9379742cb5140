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

from libs.common.errors import TemporaryError
from libs.common.fsm import UNRESOLVED, OrderState
from libs.common.messages import PlaceOrder, Side, SizingRule
from libs.common.records import MarketType
from services.executor.accounts.sessions import Sessions
from services.executor.adapters.exchange import ExchangeSession
from services.executor.domain import OrderRecord, TradingAccount
from services.executor.errors import OrderFailedError, OrderRejectedError, SizingRefusedError
from services.executor.metrics import ORDERS
from services.executor.orders import drift
from services.executor.orders.contract_setup import ContractSetup
from services.executor.orders.outcomes import Outcomes
from services.executor.orders.protector import Protector
from services.executor.orders.sizer import check_fresh, size
from services.executor.orders.sizing import SizedOrder
from services.executor.orders.submission import Submitter
from services.executor.orders.unsupported import CODE as UNSUPPORTED
from services.executor.orders.unsupported import unsupported_reason

Refusal = OrderRejectedError | OrderFailedError


def closes_all(command: PlaceOrder) -> bool:
    """Whether the order closes the whole strategy position (nothing left to protect)."""
    sizing = command.sizing
    return (sizing.rule is SizingRule.PERCENT_POSITION and sizing.value >= 100) or (
        sizing.rule is SizingRule.TARGET_POSITION and sizing.value <= 0
    )


class LegNotReadyError(TemporaryError):
    """A reverse's close is still open: its open leg waits (retried in place)."""


# A close that found nothing to close leaves the way open for the new position.
_NOTHING_CLOSED = frozenset({"nothing_to_close", "nothing_to_do"})


class OrderService:
    """Handle `PlaceOrder` commands."""

    def __init__(
        self,
        sessions: Sessions,
        outcomes: Outcomes,
        submitter: Submitter,
        protector: Protector | None = None,
        setup: ContractSetup | None = None,
    ) -> None:
        self._sessions = sessions
        self._out = outcomes
        self._orders = outcomes.orders
        self._submit = submitter
        self._protector = protector
        self._setup = setup or ContractSetup()

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
            await self._check_earlier_leg(command)
            async with self._sessions.lease(account) as session:
                await self._setup.prepare(command, account, session)
                await self._free_locked_coins(command, account, session)
                sized = await size(command, session, self._orders.position)
                record, created = await self._orders.create(self._pending(command, sized))
                if not created:
                    return await self._resume(command, record)
                await self._report_sizing(record)
                return await self._submit.drive(record, session)
        except (OrderRejectedError, OrderFailedError) as exc:
            return await self.refuse(command, exc)

    async def _check_earlier_leg(self, command: PlaceOrder) -> None:
        """Let a reverse's open leg through only once its close has filled."""
        if command.leg == 0:
            return
        first = await self._orders.get(command.client_order_id[:-1] + "0")
        if first is not None and first.state is OrderState.FILLED:
            return
        if first is not None and first.state in {OrderState.PENDING, OrderState.UNCERTAIN}:
            raise LegNotReadyError("the reverse's close is not known to have filled yet")
        if first is not None and first.state in {OrderState.SUBMITTED, OrderState.PARTIALLY_FILLED}:
            raise LegNotReadyError("the reverse's close is still filling")
        if first is not None and first.reason_code in _NOTHING_CLOSED:
            return
        why = f" ({first.reason})" if first is not None and first.reason else ""
        raise OrderRejectedError(
            "reverse_close_not_filled",
            f"The close of the position did not fill{why}, so the reverse's new position was "
            "not opened: Sparky never holds both at once.",
        )

    async def _free_locked_coins(
        self, command: PlaceOrder, account: TradingAccount, session: ExchangeSession
    ) -> None:
        """Spot: a sell needs the coins a take-profit/stop-loss list of the strategy locks.
        Cancel those first; when the sell leaves coins held, say they are now unprotected."""
        protector = self._protector
        if protector is None or account.market_type is not MarketType.SPOT:
            return
        if command.side is not Side.SELL or command.leg > 0:
            return
        open_ = await self._orders.open_in(command.tenant_id, command.account_label, command.symbol)
        locking = [r for r in open_ if r.protective]
        for record in locking:
            await protector.cancel(record, session, reason="its coins are needed for a sell")
        if locking and not closes_all(command):
            await protector.unprotected(locking, command.intent_id)

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
        reason = unsupported_reason(command, account)
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
                return await self._submit.look_up(record, session, resubmit=True)
        except (OrderRejectedError, OrderFailedError) as exc:
            return await self._out.conclude(record, exc)

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

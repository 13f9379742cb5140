"""What to say when the consumer gives up on a `PlaceOrder`: never blindly.

An order whose submission was recorded may be on the exchange: it is looked up by client
order id first. Found, it is reported as it is; surely absent, it failed (``order.failed``,
final); and when the exchange cannot be asked, it is reported ``order.uncertain`` (not final)
and the tracker keeps looking: it reports the order if it appears, or ``order.failed`` once a
late arrival is ruled out.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from enum import Enum

from libs.common.consumer import Outcome
from libs.common.errors import TemporaryError
from libs.common.fsm import UNRESOLVED, OrderState
from libs.common.messages import PlaceOrder
from services.executor.accounts.sessions import Sessions
from services.executor.domain import OrderRecord
from services.executor.errors import OrderFailedError
from services.executor.orders.outcomes import Outcomes
from services.executor.orders.service import OrderService
from services.executor.orders.submission import Via, look_up

log = logging.getLogger(__name__)
LOOKUP_TIMEOUT_S = 15.0
UNCERTAIN = (
    " Whether the exchange received the order is not known yet: Sparky keeps checking and "
    "will report the order if it appears."
)


class Verdict(Enum):
    """What a look-up by client order id established."""

    FOUND = "found"
    ABSENT = "absent"
    UNKNOWN = "unknown"


def reason_for(outcome: Outcome, exc: BaseException | None) -> str:
    """Return, in words, why the order could not be handled."""
    if outcome is Outcome.GAVE_UP and isinstance(exc, TemporaryError):
        return f"Gave up after retrying: {exc.message}"
    if outcome is Outcome.MAX_DELIVERIES:
        return "The executor stopped repeatedly while handling this order; it was not retried."
    name = type(exc).__name__ if exc is not None else "unknown error"
    return f"An internal error ({name}) stopped the executor while handling this order."


class FailureReporter:
    """Turn a given-up `PlaceOrder` into the truthful event."""

    def __init__(self, service: OrderService, sessions: Sessions, outcomes: Outcomes) -> None:
        self._service = service
        self._sessions = sessions
        self._out = outcomes

    async def give_up(self, command: PlaceOrder, reason: str) -> None:
        """Report the order failed, unless the exchange has it."""
        record = await self._out.orders.get(command.client_order_id)
        if record is None or record.tenant_id != command.tenant_id:
            await self._service.refuse(command, OrderFailedError("gave_up", reason))
            return
        if record.state in {OrderState.REJECTED, OrderState.FAILED}:
            await self._out.repeat(record)
        if record.state not in UNRESOLVED:
            return
        verdict = await self._look_up(command, record)
        if verdict is Verdict.ABSENT:
            await self._out.conclude(record, OrderFailedError("gave_up", reason))
        elif verdict is Verdict.UNKNOWN:
            await self._out.emitter.uncertain(record, reason + UNCERTAIN)
            reported = dataclasses.replace(record, failure_reported=True, reason=reason)
            await self._out.orders.save(reported)

    async def _look_up(self, command: PlaceOrder, record: OrderRecord) -> Verdict:
        """Look the order up; adopt it when found."""
        try:
            async with asyncio.timeout(LOOKUP_TIMEOUT_S):
                account = await self._sessions.account(command)
                async with self._sessions.lease(account) as session:
                    now = self._out.clock()
                    found = await look_up(session, record, Via.GIVING_UP, now)
                    if found is not None:
                        await self._out.adopt(record, found, session)
                        return Verdict.FOUND
                    if session.settled(record.sent_at, now):
                        return Verdict.ABSENT
                    return Verdict.UNKNOWN  # a late creation may still arrive
        except Exception as exc:  # noqa: BLE001 - any failure leaves the question open
            log.warning("could not look the order up before reporting it failed: %s", exc)
            return Verdict.UNKNOWN

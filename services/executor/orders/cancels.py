"""Cancel orders on request (`CancelOrders`: a ``cancel`` alert, or the ledger API's ``DELETE``).

One order by its client order id, or every open order Sparky placed in the symbol on the account
(protective orders included); orders placed outside Sparky are never touched. Each canceled order
is reported as ``order.canceled`` (through the same adoption as any change the exchange reports);
a cancel that finds nothing open is reported as ``intent.rejected`` (``unknown_order``), in
words.
"""

from __future__ import annotations

import logging

from libs.common.fsm import OPEN
from libs.common.messages import CancelOrders, RejectReason
from services.executor.accounts.sessions import Sessions
from services.executor.domain import OrderRecord
from services.executor.errors import OrderFailedError, OrderRejectedError
from services.executor.orders.outcomes import Outcomes
from services.executor.orders.protector import Protector

log = logging.getLogger(__name__)


class Canceler:
    """Carry out `CancelOrders` commands."""

    def __init__(self, sessions: Sessions, outcomes: Outcomes, protector: Protector) -> None:
        self._sessions = sessions
        self._out = outcomes
        self._protector = protector

    async def cancel(self, command: CancelOrders) -> int:
        """Cancel what the command names; return how many orders were asked to cancel."""
        try:
            account = await self._sessions.account(command)
        except (OrderRejectedError, OrderFailedError) as exc:
            await self._out.emitter.cancel_refused(
                command, RejectReason.UNKNOWN_ACCOUNT, exc.message
            )
            return 0
        found = await self._targets(command)
        if not found:
            await self._out.emitter.cancel_refused(
                command, RejectReason.UNKNOWN_ORDER, _nothing_open(command)
            )
            return 0
        async with self._sessions.lease(account) as session:
            for record in found:
                await self._protector.cancel(record, session, reason="asked to cancel")
        return len(found)

    async def give_up(self, command: CancelOrders, reason: str) -> None:
        """Report a cancel the consumer gave up on: the orders may still be open."""
        message = f"The cancel could not be carried out ({reason}); the orders may still be open."
        await self._out.emitter.cancel_refused(command, RejectReason.INTERNAL_ERROR, message)

    async def _targets(self, command: CancelOrders) -> list[OrderRecord]:
        orders = self._out.orders
        if command.client_order_id is None:
            return await orders.open_in(command.tenant_id, command.account_label, command.symbol)
        record = await orders.get(command.client_order_id)
        mine = (
            record is not None
            and record.tenant_id == command.tenant_id
            and record.account_label == command.account_label
        )
        return [record] if mine and record is not None and record.state in OPEN else []


def _nothing_open(command: CancelOrders) -> str:
    if command.client_order_id is not None:
        return (
            f"No open order with client order id {command.client_order_id} on account "
            f"'{command.account_label}': it is unknown, filled or canceled already. Nothing "
            "was canceled."
        )
    return (
        f"Sparky has no open order in {command.symbol} on account '{command.account_label}'; "
        "nothing was canceled (orders placed outside Sparky are never touched)."
    )

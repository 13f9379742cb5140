"""How an order ends: events out first, then the record saved; keys refused mark the
account invalid for the tenant and the router.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from libs.common.errors import PermanentError
from libs.common.fsm import OrderState
from libs.common.messages import PlaceOrder
from libs.common.records import AccountStatus
from libs.common.topology import Topology
from services.executor.accounts.service import AccountService
from services.executor.adapters.exchange import ExchangeSession
from services.executor.adapters.parse import ExchangeOrder
from services.executor.domain import OrderRecord
from services.executor.errors import AccountAuthError, NotFoundError, OrderRejectedError
from services.executor.orders.events import Emitter
from services.executor.orders.reconcile import Reconciler
from services.executor.orders.store import OrderStore

log = logging.getLogger(__name__)


class AfterAdoption(Protocol):
    """What reacts to an order's adopted state (the `Protector`: its protective orders)."""

    async def after(self, record: OrderRecord, session: ExchangeSession) -> OrderRecord: ...


class Outcomes:
    """Report and record what became of orders."""

    def __init__(
        self,
        orders: OrderStore,
        emitter: Emitter,
        accounts: AccountService,
        topology: Topology,
        clock: Callable[[], datetime],
    ) -> None:
        self.orders = orders
        self.emitter = emitter
        self._accounts = accounts
        self._topology = topology
        self.clock = clock
        self._reconciler = Reconciler(orders, emitter, clock)
        self.protector: AfterAdoption | None = None
        """Places and cancels protective orders around fills (wired after construction: it
        adopts through these outcomes too)."""

    def new_record(self, command: PlaceOrder, state: OrderState) -> OrderRecord:
        """Return the record of ``command`` in ``state``, not yet saved."""
        partition = self._topology.partition_of(command.tenant_id)
        return OrderRecord.from_command(command, partition, state, self.clock())

    async def adopt(
        self, record: OrderRecord, order: ExchangeOrder, session: ExchangeSession
    ) -> OrderRecord:
        """Apply the exchange's view of the order (see `Reconciler.adopt`), then place or
        cancel the protective orders it calls for."""
        updated = await self._reconciler.adopt(record, order, session)
        if self.protector is not None:
            updated = await self.protector.after(updated, session)
        return updated

    async def conclude(self, record: OrderRecord, exc: PermanentError) -> OrderRecord:
        """Report a refused or failed order, then record it so."""
        rejected = isinstance(exc, OrderRejectedError)
        state = OrderState.REJECTED if rejected else OrderState.FAILED
        await self.note_refusal(record, exc)
        if rejected:
            await self.emitter.rejected(record, exc.message, exc.code)
        else:
            await self.emitter.failed(record, exc.message)
        moved = record.moved(state, self.clock(), reason=exc.message, reason_code=exc.code)
        return await self.orders.save(moved)

    async def repeat(self, record: OrderRecord) -> None:
        """Publish again the event of a record refused before the exchange (same ids)."""
        reason = record.reason or "The order could not be placed."
        if record.state is OrderState.REJECTED:
            await self.emitter.rejected(record, reason, record.reason_code)
        elif record.state is OrderState.FAILED:
            await self.emitter.failed(record, reason)

    async def foreign(self, command: PlaceOrder) -> OrderRecord:
        """Refuse a command whose client order id belongs to another tenant's order."""
        record = self.new_record(command, OrderState.REJECTED)
        reason = "This client order id is already used by another order; it was not placed."
        await self.emitter.rejected(record, reason, "duplicate_client_order_id")
        return record

    async def note_refusal(self, record: OrderRecord, exc: PermanentError) -> None:
        """Mark the account invalid when the exchange refused its keys."""
        if not isinstance(exc, AccountAuthError):
            return
        try:
            await self._accounts.set_status(
                record.tenant_id, record.account_label, AccountStatus.INVALID, exc.message
            )
        except NotFoundError:
            log.info("account removed before it could be marked invalid")

"""Cancel an open order from the API: a `CancelOrders` command on the tenant's ORDERS subject.

The ledger only asks, signing the command with its own key, which the executor accepts for
cancels only (`libs.common.signing`): a compromised ledger can cancel, never place. The executor
cancels on the exchange and reports ``order.canceled`` (or a rejection), which the projector
folds into the order's trail like any other event. The account's mode (live, testnet,
paper) is not on the order's events: it is read from the ``accounts`` bucket the executor keeps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import nats.errors
from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue

from libs.common.errors import UnavailableError
from libs.common.fsm import OPEN, OrderState
from libs.common.ids import TenantId, new_intent_id
from libs.common.messages import CancelOrders
from libs.common.messages.types import utcnow
from libs.common.publishing import JetStreamPublisher, PubAckError, message_headers
from libs.common.records import AccountRecord, account_key
from libs.common.signing import CommandSigner
from libs.common.topology import Topology
from services.ledger.api.reads import OrderOnFile

log = logging.getLogger(__name__)
PUBLISH_TIMEOUT_S = 2.0
_NATS_ERRORS = (nats.errors.Error, PubAckError, TimeoutError, OSError)


class CannotCancelError(Exception):
    """The order cannot be canceled now (not open, or its account is gone); the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def can_cancel(order: OrderOnFile) -> None:
    """Raise `CannotCancelError` unless the projection shows ``order`` open."""
    if OrderState(order.status) not in OPEN:
        raise CannotCancelError(
            f"Order {order.client_order_id} is {order.status}: only a submitted or partially "
            "filled order can be canceled."
        )


class Canceller:
    """Publish `CancelOrders` for orders the tenant's projection shows open."""

    def __init__(
        self,
        publisher: JetStreamPublisher,
        accounts: KeyValue,
        topology: Topology,
        signer: CommandSigner,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._publisher = publisher
        self._accounts = accounts
        self._topology = topology
        self._signer = signer
        self._clock = clock

    async def cancel(self, tenant_id: TenantId, order: OrderOnFile) -> CancelOrders:
        """Ask the executor to cancel ``order``; return the command once ORDERS stored it."""
        can_cancel(order)
        account = await self._account(tenant_id, order)
        intent_id = new_intent_id()
        command = CancelOrders(
            tenant_id=tenant_id,
            correlation_id=intent_id,
            causation_id=order.last_message_id or intent_id,
            occurred_at=self._clock(),
            intent_id=intent_id,
            account_label=order.account_label,
            exchange_id=order.exchange_id,
            mode=account.mode,
            symbol=order.symbol,
            client_order_id=order.client_order_id,
            received_at=self._clock(),
        )
        await self._publish(command)
        log.info(
            "cancel requested",
            extra={"tenant_id": tenant_id, "intent_id": intent_id, "order": order.client_order_id},
        )
        return command

    async def _account(self, tenant_id: str, order: OrderOnFile) -> AccountRecord:
        """Return the order's account (its mode), as the executor keeps it."""
        gone = CannotCancelError(
            f"The account {order.account_label!r} of order {order.client_order_id} is not "
            "configured any more: Sparky cannot reach the exchange to cancel it."
        )
        try:
            entry = await self._accounts.get(account_key(tenant_id, order.account_label))
        except KeyNotFoundError as exc:  # never added, or deleted
            raise gone from exc
        except _NATS_ERRORS as exc:
            raise UnavailableError("the accounts bucket cannot be read") from exc
        if entry.value is None:
            raise gone
        return AccountRecord.model_validate_json(entry.value)

    async def _publish(self, command: CancelOrders) -> None:
        subject = self._topology.order_subject(command.tenant_id)
        stream = self._topology.orders_stream
        payload = command.to_json()
        headers = message_headers(command, command.message_id, stream)
        headers |= self._signer.header(subject, payload)
        try:
            await self._publisher.request(subject, payload, headers, PUBLISH_TIMEOUT_S)
        except _NATS_ERRORS as exc:
            raise UnavailableError(f"could not publish to {stream}: {type(exc).__name__}") from exc

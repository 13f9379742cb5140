"""Events about orders, built from the order record and published to EVENTS.

Every event's ``message_id`` is derived from the order and what the event says (a ULID whose
time is the order's and whose rest is a hash), and so is its ``Nats-Msg-Id``: an event
published again after a crash or by a look-up is the same event, dropped by JetStream within
its window and recognisable by the ledger after it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from faststream.nats import NatsBroker
from ulid import ULID

from libs.common.broker import publish_message
from libs.common.messages import (
    CancelOrders,
    Fill,
    FundingPaid,
    IntentRejected,
    OrderCanceled,
    OrderFailed,
    OrderFilled,
    OrderRejected,
    OrderRole,
    OrderSubmitted,
    OrderUncertain,
    PositionDrift,
    PositionMarked,
    ProtectionFailed,
    RejectReason,
)
from libs.common.messages.events import OrderEvent
from libs.common.topology import Topology
from services.executor.domain import OrderRecord
from services.executor.orders.drift import Drift

_ID_BYTES = 10
MAX_REASON = 500


def short(text: str) -> str:
    """Return ``text`` cut to what an event's reason holds."""
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def stable_id(record: OrderRecord, key: str) -> str:
    """Return a ULID that is the same every time for the same order and ``key``."""
    millis = int(record.created_at.timestamp() * 1000).to_bytes(6, "big")
    digest = hashlib.blake2b(key.encode(), digest_size=_ID_BYTES).digest()
    return str(ULID.from_bytes(millis + digest))


def fills_key(record: OrderRecord, fills: Sequence[Fill]) -> str:
    """Return the ``Nats-Msg-Id`` of one batch of fills."""
    ids = "\x00".join(sorted(f.trade_id for f in fills))
    return f"{record.client_order_id}:filled:{hashlib.sha256(ids.encode()).hexdigest()[:24]}"


class Emitter:
    """Publish events about orders, each exactly as it would be published again."""

    def __init__(self, broker: NatsBroker, topology: Topology) -> None:
        self._broker = broker
        self._topology = topology

    async def submitted(
        self, record: OrderRecord, exchange_order_id: str, amount: Decimal, when: datetime
    ) -> None:
        key = f"{record.client_order_id}:submitted"
        await self._emit(
            OrderSubmitted,
            record,
            key,
            exchange_order_id=exchange_order_id[:64],
            order_type=record.order_type,
            amount=amount,
            price=record.price,
            submitted_at=when,
            note=short(record.note) if record.note else None,
            trigger_price=record.trigger_price,
            reduce_only=record.reduce_only,
            leverage=record.leverage,
        )

    async def filled(
        self, record: OrderRecord, exchange_order_id: str, fills: Sequence[Fill], *, complete: bool
    ) -> None:
        await self._emit(
            OrderFilled,
            record,
            fills_key(record, fills),
            exchange_order_id=exchange_order_id[:64],
            fills=tuple(fills),
            complete=complete,
        )

    async def canceled(self, record: OrderRecord, exchange_order_id: str, filled: Decimal) -> None:
        await self._emit(
            OrderCanceled,
            record,
            f"{record.client_order_id}:canceled",
            exchange_order_id=exchange_order_id[:64],
            filled_amount=filled,
            reason="canceled on the exchange",
        )

    async def rejected(self, record: OrderRecord, reason: str, code: str | None) -> None:
        key = f"{record.client_order_id}:rejected"
        await self._emit(OrderRejected, record, key, reason=short(reason), code=code)

    async def failed(self, record: OrderRecord, reason: str) -> None:
        key = f"{record.client_order_id}:failed"
        await self._emit(OrderFailed, record, key, reason=short(reason))

    async def uncertain(self, record: OrderRecord, reason: str) -> None:
        key = f"{record.client_order_id}:uncertain"
        await self._emit(OrderUncertain, record, key, reason=short(reason))

    async def drift(self, record: OrderRecord, drift: Drift) -> None:
        await self._emit(
            PositionDrift,
            record,
            f"{record.client_order_id}:drift:{drift.key}",
            source=drift.source,
            expected=drift.expected,
            actual=drift.actual,
            written_off=drift.written_off,
            healed=drift.healed,
            message=short(drift.message),
        )

    async def protection_failed(self, entry: OrderRecord, role: OrderRole, reason: str) -> None:
        """Tell the trader that a protective order of ``entry`` is not in place."""
        key = f"{entry.client_order_id}:protection-failed:{role.value}"
        await self._emit(ProtectionFailed, entry, key, protection=role, reason=short(reason))

    async def cancel_refused(
        self, command: CancelOrders, reason: RejectReason, message: str
    ) -> None:
        """Report a cancel that canceled nothing, in the trail of its intent."""
        key = f"{command.message_id}:cancel-refused"
        millis = int(command.occurred_at.timestamp() * 1000).to_bytes(6, "big")
        digest = hashlib.blake2b(key.encode(), digest_size=_ID_BYTES).digest()
        event = IntentRejected(
            message_id=str(ULID.from_bytes(millis + digest)),
            tenant_id=command.tenant_id,
            correlation_id=command.intent_id,
            causation_id=command.message_id,
            intent_id=command.intent_id,
            reason=reason,
            message=short(message),
        )
        subject = self._topology.event_subject(command.tenant_id, event.kind)
        await publish_message(
            self._broker, subject, event, stream=self._topology.events_stream, msg_id=key
        )

    async def account_event(self, event: PositionMarked | FundingPaid, key: str) -> None:
        """Publish an event about an account's position (not about one order)."""
        subject = self._topology.event_subject(event.tenant_id, event.kind)
        await publish_message(
            self._broker, subject, event, stream=self._topology.events_stream, msg_id=key
        )

    async def _emit(
        self, kind: type[OrderEvent], record: OrderRecord, key: str, **fields: Any
    ) -> None:
        event = kind(
            message_id=stable_id(record, key),
            tenant_id=record.tenant_id,
            correlation_id=record.intent_id,
            causation_id=record.place_order_id,
            intent_id=record.intent_id,
            client_order_id=record.client_order_id,
            account_label=record.account_label,
            exchange_id=record.exchange_id,
            symbol=record.symbol,
            side=record.side,
            role=record.role,
            parent_client_order_id=record.parent_client_order_id,
            **fields,
        )
        subject = self._topology.event_subject(record.tenant_id, event.kind)  # type: ignore[attr-defined]
        await publish_message(
            self._broker, subject, event, stream=self._topology.events_stream, msg_id=key
        )

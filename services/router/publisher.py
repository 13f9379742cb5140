"""Publish the router's output: `PlaceOrder` and `CancelOrders` commands, `IntentRejected`
events.

Message ids make a republish harmless: an order's ``Nats-Msg-Id`` is its client order id
(``sp<intent id><leg>``, 29 characters, accepted by Binance and most exchanges), a cancel's
``<intent id>:cancel``, a rejection's ``<intent id>:rejected``; JetStream drops a second copy
within the stream's window. A republished decision also carries the message ids it was kept
with, so even a copy that gets past that window is the same message (and the executor places a
client order id once). Commands are signed with the router's key (`libs.common.signing`): the
executor carries out no command on ORDERS without its issuer's signature.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import nats.errors
from faststream.exceptions import FastStreamException
from faststream.nats import NatsBroker
from nats.js import api

from libs.common.broker import publish_message
from libs.common.errors import UnavailableError
from libs.common.ids import ClientOrderId, IntentId
from libs.common.messages import (
    CancelOrders,
    IntentRejected,
    OrderIntent,
    OrderSpec,
    PlaceOrder,
    RejectReason,
    decode_command,
)
from libs.common.messages.base import Message, envelope_from
from libs.common.signing import CommandSigner
from libs.common.topology import Topology
from services.router.domain.decisions import CancelSpec
from services.router.domain.kept import Kept

MAX_MESSAGE = 500


def client_order_id(intent_id: IntentId, leg: int) -> ClientOrderId:
    """Return the deterministic client order id of one leg of an intent."""
    return ClientOrderId(f"sp{intent_id}{leg}")


class Publisher:
    """Send orders and rejections; tell from the stream which legs of an intent went out."""

    def __init__(self, broker: NatsBroker, topology: Topology, signer: CommandSigner) -> None:
        self._broker = broker
        self._topology = topology
        self._signer = signer

    async def publish(self, intent: OrderIntent, kept: Kept) -> None:
        """Publish a kept decision: its orders in leg order, its cancel, or its rejection."""
        if kept.cancel is not None:
            await self.cancel(intent, kept.cancel, kept.at, kept.ids[0])
        elif kept.reason is None:
            await self.place(intent, kept.orders, kept.at, kept.ids)
        else:
            await self.reject(intent, kept.reason, kept.message or "", kept.at, kept.ids[0])

    async def place(
        self,
        intent: OrderIntent,
        orders: Sequence[OrderSpec],
        now: datetime,
        message_ids: Sequence[str],
    ) -> None:
        """Publish the orders in leg order; each is stored before the next is sent."""
        subject = self._topology.order_subject(intent.tenant_id)
        for spec, message_id in zip(orders, message_ids, strict=True):
            order = PlaceOrder(
                **envelope_from(intent),
                message_id=message_id,
                occurred_at=now,
                intent_id=intent.intent_id,
                client_order_id=client_order_id(intent.intent_id, spec.leg),
                received_at=intent.received_at,
                **dict(spec),
            )
            await self._command(subject, order, order.client_order_id)

    async def cancel(
        self, intent: OrderIntent, spec: CancelSpec, now: datetime, message_id: str
    ) -> None:
        """Publish a cancel on ORDERS, after the orders of its account and market."""
        command = CancelOrders(
            **envelope_from(intent),
            message_id=message_id,
            occurred_at=now,
            intent_id=intent.intent_id,
            received_at=intent.received_at,
            **dict(spec),
        )
        subject = self._topology.order_subject(intent.tenant_id)
        await self._command(subject, command, f"{intent.intent_id}:cancel")

    async def published_legs(self, intent: OrderIntent) -> int | None:
        """Return how many of the intent's orders ORDERS holds, or None when NATS cannot say.

        Read from the stream, not remembered: a `PlaceOrder` whose PubAck was lost is stored
        all the same. A tenant's markets are handled concurrently, so this reads the tenant's
        orders stored since shortly before the alert arrived (a rare path: only an intent
        given up without a decision kept comes here) and counts this intent's.
        """
        js = self._broker.config.connection_state.stream
        since = intent.received_at - LOOK_BACK
        config = api.ConsumerConfig(
            deliver_policy=api.DeliverPolicy.BY_START_TIME,
            opt_start_time=since,
            ack_policy=api.AckPolicy.NONE,
            inactive_threshold=5.0,
        )
        subject = self._topology.order_subject(intent.tenant_id)
        legs = 0
        try:
            sub = await js.pull_subscribe(
                subject, stream=self._topology.orders_stream, config=config
            )
            try:
                while True:
                    try:
                        msgs = await sub.fetch(256, timeout=1.0)
                    except TimeoutError:
                        break
                    for msg in msgs:
                        legs = max(legs, _leg_of(msg.data, intent))
                    if msgs[-1].metadata.num_pending == 0:
                        break
            finally:
                await sub.unsubscribe()
        except (nats.errors.Error, OSError):
            return None
        return legs

    async def reject(
        self,
        intent: OrderIntent,
        reason: RejectReason,
        message: str,
        now: datetime,
        message_id: str,
    ) -> None:
        """Publish why the intent was refused."""
        event = IntentRejected(
            **envelope_from(intent),
            message_id=message_id,
            occurred_at=now,
            intent_id=intent.intent_id,
            reason=reason,
            message=message[:MAX_MESSAGE],
        )
        subject = self._topology.event_subject(intent.tenant_id, event.kind)
        await self._send(
            subject, event, self._topology.events_stream, f"{intent.intent_id}:rejected"
        )

    async def _command(self, subject: str, command: PlaceOrder | CancelOrders, msg_id: str) -> None:
        await self._send(subject, command, self._topology.orders_stream, msg_id, self._signer)

    async def _send(
        self,
        subject: str,
        message: Message,
        stream: str,
        msg_id: str,
        signer: CommandSigner | None = None,
    ) -> None:
        try:
            await publish_message(
                self._broker, subject, message, stream=stream, msg_id=msg_id, signer=signer
            )
        except (nats.errors.Error, FastStreamException, TimeoutError, OSError) as exc:
            raise UnavailableError(f"could not publish to {stream}: {type(exc).__name__}") from exc


LOOK_BACK = timedelta(seconds=60)


def _leg_of(data: bytes, intent: OrderIntent) -> int:
    """Return 1 + the leg of an order of ``intent`` (1 for its cancel), 0 for any other."""
    try:
        command = decode_command(data)
    except ValueError:
        return 0
    if command.intent_id != intent.intent_id:
        return 0
    return command.leg + 1 if isinstance(command, PlaceOrder) else 1

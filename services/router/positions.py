"""Known positions: net filled amounts per (tenant, account, symbol), from ``order.filled``.

The router has no exchange access, so it learns positions from the executor's fill events:
one durable consumer, ``router-positions``, shared by every replica (any replica may apply any
event: the state is in Redis and each event is applied once, by message id). Sums commute, so
events need no ordering. The picture is eventually consistent (a fill reaches it some
milliseconds after it happened, a position changed outside Sparky never does); the executor
resolves every close and target order against the live position.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from decimal import Decimal

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import BadRequestError
from pydantic import ValidationError

from libs.common.consumer import ConsumerPolicy
from libs.common.errors import TemporaryError
from libs.common.jetstream import consumer_config
from libs.common.messages import OrderFilled, Side, decode_event
from libs.common.topology import Topology
from services.router.metrics import POSITION_EVENTS
from services.router.redis_state import RouterState

log = logging.getLogger(__name__)

DURABLE = "router-positions"
RETRY_DELAY_S = 1.0


def fills_filter(topology: Topology) -> str:
    """Return the subject filter of every tenant's ``order.filled`` events."""
    return f"{topology.namespace}.events.*.order.filled"


def signed_amount(event: OrderFilled) -> Decimal:
    """Return what the event's fills add to the position (negative for a sell)."""
    total = sum((fill.amount for fill in event.fills), Decimal(0))
    return total if event.side is Side.BUY else -total


class PositionProjector:
    """Apply every ``order.filled`` event to the known positions."""

    def __init__(
        self, js: JetStreamContext, topology: Topology, state: RouterState, policy: ConsumerPolicy
    ) -> None:
        self._js = js
        self._topology = topology
        self._state = state
        self._policy = policy
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Create or bind the durable consumer and start applying events."""
        config = consumer_config(
            DURABLE,
            fills_filter(self._topology),
            ack_wait_s=self._policy.ack_wait_s,
            max_deliver=-1,  # a fill must never be dropped; a bad payload is terminated instead
            max_ack_pending=self._policy.max_ack_pending,
        )
        with contextlib.suppress(BadRequestError):  # exists with other timings: keep it
            await self._js.add_consumer(self._topology.events_stream, config)
        sub = await self._js.pull_subscribe_bind(DURABLE, stream=self._topology.events_stream)
        self._task = asyncio.create_task(self._run(sub), name=DURABLE)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self, sub: JetStreamContext.PullSubscription) -> None:
        try:
            while True:
                try:
                    msgs = await sub.fetch(
                        self._policy.batch_size, timeout=self._policy.fetch_timeout_s
                    )
                except TimeoutError:  # nats' own, or asyncio's when a deadline ran out
                    continue
                except Exception:  # a lost connection: the client reconnects, we wait
                    log.exception("fetching fills failed")
                    await asyncio.sleep(RETRY_DELAY_S)
                    continue
                for msg in msgs:
                    await self._one(msg)
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _one(self, msg: Msg) -> None:
        try:
            event = decode_event(msg.data)
        except ValidationError:
            log.exception("undecodable order.filled event skipped", extra={"subject": msg.subject})
            POSITION_EVENTS.labels("undecodable").inc()
            await msg.term()
            return
        if not isinstance(event, OrderFilled):
            await msg.ack()
            return
        try:
            applied = await self._state.apply_fill(
                event.tenant_id,
                event.message_id,
                (event.account_label, event.symbol),
                signed_amount(event),
            )
        except TemporaryError as exc:
            log.warning("could not apply a fill, retrying: %s", exc.message)
            await msg.nak(delay=RETRY_DELAY_S)
            return
        POSITION_EVENTS.labels("applied" if applied else "duplicate").inc()
        await msg.ack()

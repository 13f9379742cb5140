"""Known positions: net filled amounts per (tenant, account, symbol), from the executor's events.

The router has no exchange access, so it learns positions from the executor's events: fills
(``order.filled``, net of fees charged in the coin, the executor's and the ledger's rule) and
coins written off because the wallet no longer held them (``position.drift``). One durable
consumer per kind, ``router-positions`` and ``router-drifts``, each shared by every replica
(any replica may apply any event: the state is in Redis and each change is applied once, a
fill by its trade id). Sums commute, so events need no ordering. The picture is eventually
consistent (a fill reaches it some milliseconds after it happened); the executor sizes every
sell against its own record of the strategy position, which is exact.
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
from libs.common.messages import Event, OrderFilled, PositionDrift, decode_event
from libs.common.positions import fill_change
from libs.common.topology import Topology
from services.router.metrics import POSITION_EVENTS
from services.router.redis_state import RouterState

log = logging.getLogger(__name__)

DURABLES = {"order.filled": "router-positions", "position.drift": "router-drifts"}
RETRY_DELAY_S = 1.0


def events_filter(topology: Topology, kind: str) -> str:
    """Return the subject filter of every tenant's events of ``kind``."""
    return f"{topology.namespace}.events.*.{kind}"


def position_changes(event: Event) -> list[tuple[str, Decimal]]:
    """Return what an event changes in its position, each change with its id."""
    if isinstance(event, OrderFilled):
        return [
            (f"t:{fill.trade_id}", fill_change(event.symbol, event.side, fill))
            for fill in event.fills
        ]
    if isinstance(event, PositionDrift) and event.written_off:
        return [(f"w:{event.message_id}", -event.written_off)]
    return []


class PositionProjector:
    """Apply every event of one kind (fills, or drifts) to the known positions."""

    def __init__(
        self,
        js: JetStreamContext,
        topology: Topology,
        state: RouterState,
        policy: ConsumerPolicy,
        kind: str,
    ) -> None:
        self._js = js
        self._topology = topology
        self._state = state
        self._policy = policy
        self._durable = DURABLES[kind]
        self._filter = events_filter(topology, kind)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Create or bind the durable consumer and start applying events."""
        config = consumer_config(
            self._durable,
            self._filter,
            ack_wait_s=self._policy.ack_wait_s,
            max_deliver=-1,  # a fill must never be dropped; a bad payload is terminated instead
            max_ack_pending=self._policy.max_ack_pending,
        )
        with contextlib.suppress(BadRequestError):  # exists with other timings: keep it
            await self._js.add_consumer(self._topology.events_stream, config)
        sub = await self._js.pull_subscribe_bind(self._durable, stream=self._topology.events_stream)
        self._task = asyncio.create_task(self._run(sub), name=self._durable)

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
                    log.exception("fetching %s failed", self._durable)
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
            log.exception("undecodable event skipped", extra={"subject": msg.subject})
            POSITION_EVENTS.labels("undecodable").inc()
            await msg.term()
            return
        changes = position_changes(event)
        if not changes or not isinstance(event, OrderFilled | PositionDrift):
            await msg.ack()
            return
        try:
            applied = await self._state.apply_changes(
                event.tenant_id, (event.account_label, event.symbol), changes
            )
        except TemporaryError as exc:
            log.warning("could not apply a position change, retrying: %s", exc.message)
            await msg.nak(delay=RETRY_DELAY_S)
            return
        POSITION_EVENTS.labels("applied" if applied else "duplicate").inc()
        await msg.ack()

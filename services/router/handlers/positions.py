"""Known positions: net filled amounts per (tenant, account, symbol), from the executor's events.

The router has no exchange access, so it learns positions from the executor's events: fills
(``order.filled``, net of fees charged in the coin, the executor's and the ledger's rule) and
coins written off because the wallet no longer held them (``position.drift``). One durable
consumer per kind, ``router-positions`` and ``router-drifts``, each shared by every replica
(any replica may apply any event: the state is in Redis and each change is applied once, a
fill by its trade id), read in batches on the one consumption layer and acknowledged with one
ack per batch (`libs.common.consumer.BatchConsumer`). Sums commute, so events need no
ordering. The picture is eventually consistent (a fill reaches it some milliseconds after it
happened); the executor sizes every sell against its own record of the strategy position,
which is exact.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from decimal import Decimal

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from pydantic import ValidationError

from libs.common.consumer import BatchConsumer, BatchSpec, ConsumerPolicy, Outcome, dead_letter
from libs.common.messages import Event, OrderFilled, PositionDrift, decode_event
from libs.common.positions import fill_change
from libs.common.topology import Durables, Topology
from services.router.metrics import POSITION_EVENTS
from services.router.store.redis_state import RouterState

log = logging.getLogger(__name__)

DURABLES = {"order.filled": Durables.ROUTER_POSITIONS, "position.drift": Durables.ROUTER_DRIFTS}


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
        self._state = state
        self._deadletter = topology.deadletter_subject("EVENTS")
        spec = BatchSpec(
            service="router",
            stream=topology.events_stream,
            durable=DURABLES[kind],
            filter_subject=events_filter(topology, kind),
            handler=self._batch,
            deadletter_subject=self._deadletter,
            policy=replace(policy, ack_wait_s=max(policy.ack_wait_s, 30.0), fill_s=0.02, window=0),
        )
        self._consumer = BatchConsumer(js, spec)

    async def start(self) -> None:
        """Create or bind the durable consumer and start applying events."""
        await self._consumer.start()

    async def stop(self) -> None:
        await self._consumer.stop()

    async def _batch(self, msgs: list[Msg]) -> None:
        """Apply each event's changes (each once: a redelivered batch changes nothing); a
        `TemporaryError` has the batch retried in place."""
        for msg in msgs:
            await self._one(msg)

    async def _one(self, msg: Msg) -> None:
        try:
            event = decode_event(msg.data)
        except ValidationError as exc:
            POSITION_EVENTS.labels("undecodable").inc()
            await dead_letter(self._js, self._deadletter, msg, Outcome.POISON, exc)
            return
        changes = position_changes(event)
        if not changes or not isinstance(event, OrderFilled | PositionDrift):
            return
        applied = await self._state.apply_changes(
            event.tenant_id, (event.account_label, event.symbol), changes
        )
        POSITION_EVENTS.labels("applied" if applied else "duplicate").inc()

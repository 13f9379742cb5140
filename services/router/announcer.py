"""``settings.kill_switch``: owed from the settings change's commit until JetStream stored it.

The change's transaction records the event in the outbox (`SettingsStore.put`/``delete``);
the API publishes it right after the commit and forgets it. A crash or a NATS outage in between
leaves it owed, and every router's announcer publishes what is owed every few seconds. So the
event may be published more than once, with the same message id each time: JetStream drops a
repeat within EVENTS' duplicate window, and consumers keep one per message id.
"""

from __future__ import annotations

import asyncio
import logging

import nats.errors
from faststream.nats import NatsBroker

from libs.common.broker import publish_message
from libs.common.messages import KillSwitchChanged
from libs.common.topology import Topology
from services.router.domain.kill_switch import kill_switch_notice
from services.router.metrics import KILL_SWITCH_NOTICES
from services.router.store.records import Change
from services.router.store.settings import SettingsStore

log = logging.getLogger(__name__)
PUBLISH_TIMEOUT_S = 2.0


class KillSwitchAnnouncer:
    """Publish the kill switch events the settings changes owe."""

    def __init__(self, broker: NatsBroker, topology: Topology, store: SettingsStore) -> None:
        self._broker = broker
        self._topology = topology
        self._store = store

    async def announce(self, tenant_id: str, change: Change) -> None:
        """Publish the event ``change`` owes, if any; a failure leaves it owed, logged."""
        notice = kill_switch_notice(tenant_id, change)
        if notice is None:
            return
        try:
            await self._send(change.id, notice)
        except Exception:  # the change is committed: never fail its request for the notice
            log.exception("kill switch event not forgotten; the announcer sends it again")

    async def announce_owed(self) -> int:
        """Publish every owed event (a batch per call); return how many were stored."""
        sent = 0
        for change_id, notice in await self._store.owed_notices():
            sent += await self._send(change_id, notice)
        return sent

    async def run_forever(self, interval_s: float) -> None:
        """Publish what is owed every ``interval_s`` seconds, forever."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.announce_owed()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("kill switch announcer failed; it runs again on the next tick")

    async def _send(self, change_id: int, notice: KillSwitchChanged) -> bool:
        subject = self._topology.event_subject(notice.tenant_id, notice.kind)
        try:
            await publish_message(
                self._broker,
                subject,
                notice,
                stream=self._topology.events_stream,
                timeout_s=PUBLISH_TIMEOUT_S,
            )
        except (nats.errors.Error, TimeoutError, OSError) as exc:
            KILL_SWITCH_NOTICES.labels("owed").inc()
            extra = {"tenant_id": notice.tenant_id, "change_id": change_id, "error": repr(exc)}
            log.warning("kill switch event not published; it stays owed", extra=extra)
            return False
        await self._store.notice_sent(change_id)
        KILL_SWITCH_NOTICES.labels("published").inc()
        return True

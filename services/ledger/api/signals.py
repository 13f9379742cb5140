"""Wake the alert streams when the projector commits: one LISTEN per API process.

The projector notifies ``sparky_alerts.<schema>`` in the transaction that changes alerts,
with the tenants concerned (``*``: all). One connection of this process listens and wakes
the streams of those tenants; each then reads its own changes, under RLS. While the
listening connection is down, streams look every ``fallback_s`` instead (and all are woken
once it is back, for what they may have missed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from services.ledger.store.batch import ALERTS_CHANNEL

log = logging.getLogger(__name__)


class AlertSignals:
    """One listening connection; every waiting stream of a tenant gets an `asyncio.Event`."""

    def __init__(
        self,
        engine: AsyncEngine,
        schema: str,
        *,
        fallback_s: float = 1.0,
        check_s: float = 5.0,
    ) -> None:
        self._engine = engine
        self.channel = ALERTS_CHANNEL + schema
        self.fallback_s = fallback_s
        self._check_s = check_s
        self._waiting: dict[str, set[asyncio.Event]] = defaultdict(set)
        self.listening = False

    @contextmanager
    def watch(self, tenant_id: str) -> Iterator[asyncio.Event]:
        """Yield an event set whenever ``tenant_id``'s alerts change, while the block runs."""
        event = asyncio.Event()
        self._waiting[tenant_id].add(event)
        try:
            yield event
        finally:
            waiting = self._waiting.get(tenant_id)
            if waiting is not None:
                waiting.discard(event)
                if not waiting:
                    del self._waiting[tenant_id]

    def wake(self, payload: str) -> None:
        """Wake the streams of the tenants in ``payload`` (comma-separated, or ``*``)."""
        tenants = self._waiting.keys() if payload == "*" else payload.split(",")
        for tenant in list(tenants):
            for event in self._waiting.get(tenant, ()):
                event.set()

    async def run(self, retry_s: float = 1.0) -> None:
        """Listen until cancelled, reconnecting after a failure."""
        while True:
            try:
                async with self._listening():
                    self.wake("*")  # what happened while nobody listened
                    while True:
                        await asyncio.sleep(self._check_s)
                        await self._ping()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - any failure: listen again, streams poll meanwhile
                log.warning("alert notifications lost; streams poll until they are back")
            finally:
                self.listening = False
            await asyncio.sleep(retry_s)

    @contextlib.asynccontextmanager
    async def _listening(self) -> AsyncIterator[None]:
        async with self._engine.connect() as conn:
            raw: Any = (await conn.get_raw_connection()).driver_connection
            await raw.add_listener(self.channel, self._on_notify)
            self._raw = raw
            self.listening = True
            try:
                yield
            finally:
                with contextlib.suppress(Exception):
                    await raw.remove_listener(self.channel, self._on_notify)

    async def _ping(self) -> None:
        await self._raw.execute("SELECT 1")

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        self.wake(payload)

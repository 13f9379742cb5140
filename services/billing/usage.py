"""Usage: count each event once, and report the counters to tenants and operators."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from pydantic import ValidationError

from libs.common.messages import decode_event
from services.billing.domain.usage import Count, Period, UsageRow, count_of, fold, period_range
from services.billing.runtime import Runtime
from services.billing.store import usage as store


class PoisonEventError(Exception):
    """An event that no retry will make readable; it goes to the dead-letter subject."""


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What a batch of events did: new ones counted, the rest, and the unreadable ones."""

    counted: int = 0
    ignored: int = 0
    unreadable: list[int] = field(default_factory=list)  # positions in the batch


class Usage:
    """Record events into counters; read counters back."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt

    async def record_batch(self, payloads: Sequence[bytes]) -> BatchOutcome:
        """Count a batch of events from EVENTS in one transaction. Redeliveries and events
        that count towards nothing are ignored; unreadable ones are reported by position.
        """
        counts: list[Count] = []
        unreadable: list[int] = []
        for position, payload in enumerate(payloads):
            try:
                count = count_of(decode_event(payload))
            except ValidationError:
                unreadable.append(position)
                continue
            if count is not None:
                counts.append(count)
        counted = 0
        if counts:
            async with self._rt.engine.begin() as conn:
                counted = await store.record(conn, counts, self._rt.now())
        return BatchOutcome(counted, len(payloads) - counted - len(unreadable), unreadable)

    async def record(self, payload: bytes) -> bool:
        """Count one event; return whether it was new. Raise `PoisonEventError` if unreadable."""
        outcome = await self.record_batch([payload])
        if outcome.unreadable:
            raise PoisonEventError("unreadable event")
        return outcome.counted == 1

    async def report(
        self,
        period: Period,
        start: date | None,
        end: date | None,
        tenant_id: str | None,
    ) -> list[UsageRow]:
        """Return usage per tenant and period between two dates (UTC days or months)."""
        first, last = period_range(period, start, end, self._rt.now().date())
        async with self._rt.engine.connect() as conn:
            rows = await store.counters(conn, period, first, last, tenant_id)
        return fold(period, rows)

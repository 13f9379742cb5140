"""The refusal reporter: folds refusals per webhook and reason, never waits, stays bounded."""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast

from prometheus_client import REGISTRY

from libs.common.messages import AlertRefused, RefusalReason, decode_event
from libs.common.publishing import JetStreamPublisher
from libs.common.topology import Topology
from services.ingress.adapters.refusals import RefusalReporter
from tests import factories
from tests.helpers.ingress import FakeClock


class Recorder:
    """Keeps what would have been published (the reporter's only way out)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, AlertRefused]] = []
        self.times: list[float] = []
        self._arrived = asyncio.Condition()

    async def until(self, count: int) -> None:
        async with asyncio.timeout(5), self._arrived:
            await self._arrived.wait_for(lambda: len(self.sent) >= count)

    async def send(self, subject: str, payload: bytes, headers: dict[str, str], label: str) -> None:
        event = decode_event(payload)
        assert isinstance(event, AlertRefused)
        async with self._arrived:
            self.sent.append((subject, event))
            self.times.append(time.monotonic())
            self._arrived.notify_all()


def dropped_so_far() -> float:
    return REGISTRY.get_sample_value("sparky_ingress_refusals_dropped_total") or 0.0


def reporter(recorder: Recorder, **options: Any) -> RefusalReporter:
    publisher = cast("JetStreamPublisher", recorder)
    return RefusalReporter(publisher, Topology(namespace="unit"), clock=FakeClock(), **options)


async def test_refusals_of_one_webhook_and_reason_fold_into_one_event() -> None:
    recorder = Recorder()
    refusals = reporter(recorder)
    hook = factories.webhook_record("tenant-a")
    for _ in range(5):
        refusals.report(hook, RefusalReason.RATE_LIMITED, 429, "Too many alerts.")
    refusals.report(hook, RefusalReason.PASSPHRASE, 401, "Wrong passphrase.")
    await refusals.stop()
    counted = {event.reason: event.count for _, event in recorder.sent}
    assert counted == {RefusalReason.RATE_LIMITED: 5, RefusalReason.PASSPHRASE: 1}
    assert {subject for subject, _ in recorder.sent} == {"unit.events.tenant-a.alert.refused"}


async def test_the_next_event_of_a_webhook_waits_out_the_interval() -> None:
    recorder = Recorder()
    refusals = reporter(recorder, interval_s=0.2)
    hook = factories.webhook_record("tenant-a")
    await refusals.start()
    refusals.report(hook, RefusalReason.INVALID_ALERT, 400, "Not an alert.")
    await recorder.until(1)
    refusals.report(hook, RefusalReason.INVALID_ALERT, 400, "Not an alert.")
    refusals.report(hook, RefusalReason.INVALID_ALERT, 400, "Not an alert.")
    await recorder.until(2)
    await refusals.stop()
    assert [event.count for _, event in recorder.sent] == [1, 2]
    assert recorder.times[1] - recorder.times[0] >= 0.19  # folded, sent once the interval ran


async def test_beyond_its_bound_a_refusal_is_dropped_and_counted_never_queued() -> None:
    recorder = Recorder()
    refusals = reporter(recorder, max_pending=2)
    dropped = dropped_so_far()
    for tenant in ("tenant-a", "tenant-b", "tenant-c"):
        refusals.report(factories.webhook_record(tenant), RefusalReason.TOO_LARGE, 413, "Big.")
    assert dropped_so_far() == dropped + 1
    await refusals.stop()
    assert len(recorder.sent) == 2

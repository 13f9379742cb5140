"""Load shedding: beyond the in-flight limit an alert is refused at once, not queued."""

from __future__ import annotations

import pytest

from services.ingress.api.webhook import Admission, WebhookSlots


def test_alerts_beyond_the_limit_are_refused_until_one_finishes() -> None:
    admission = Admission(limit=2)

    with admission.admit() as first, admission.admit() as second:
        with admission.admit() as third:
            assert (first, second, third) == (True, True, False)
        assert admission.count == 2
    with admission.admit() as later:
        assert later
    assert admission.count == 0


def test_a_failing_alert_still_frees_its_place() -> None:
    admission = Admission(limit=1)

    with pytest.raises(RuntimeError), admission.admit():
        raise RuntimeError("boom")

    assert admission.count == 0


def test_one_webhooks_open_requests_are_capped_and_others_are_not_affected() -> None:
    slots = WebhookSlots(limit=2)

    with (
        slots.hold("hook-a") as first,
        slots.hold("hook-a") as second,
        slots.hold("hook-a") as third,
        slots.hold("hook-b") as other,
    ):
        assert (first, second, third, other) == (True, True, False, True)
    assert slots.open == {}  # every slot given back, no entry left behind per webhook

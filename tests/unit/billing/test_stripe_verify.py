"""Webhook bodies are accepted only when Stripe signed them, recently, with our secret."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from services.billing.adapters.stripe_client import verify_event
from services.billing.errors import SignatureError
from tests.helpers.billing import STRIPE_SECRET, signature, stripe_event

PAYLOAD = stripe_event("invoice.paid", {"id": "in_1", "customer": "cus_1"})


def test_a_body_signed_by_the_stripe_library_is_accepted() -> None:
    event = verify_event(PAYLOAD, signature(PAYLOAD), STRIPE_SECRET, 300)
    assert event.type == "invoice.paid"


# Headers are signed when the test runs, not when it is collected: a signature made at
# collection would be older than the 300 s tolerance by the time a long suite gets here.
@pytest.mark.parametrize(
    ("payload", "header", "reason"),
    [
        (PAYLOAD, lambda: signature(PAYLOAD, "whsec_other"), "does not match"),
        (PAYLOAD, lambda: signature(PAYLOAD, age_s=400), "signed more than 300 s ago"),
        (PAYLOAD, lambda: None, "does not match"),
        (PAYLOAD + b" ", lambda: signature(PAYLOAD), "does not match"),
        (b"not json", lambda: signature(b"not json"), "not a Stripe event"),
        (
            b'{"object": "event", "id": "evt_1"}',
            lambda: signature(b'{"object": "event", "id": "evt_1"}'),
            "not a Stripe event we can read",
        ),
    ],
    ids=["other_secret", "too_old", "unsigned", "body_changed", "not_json", "not_an_event"],
)
def test_anything_else_is_refused_with_a_reason(
    payload: bytes, header: Callable[[], str | None], reason: str
) -> None:
    with pytest.raises(SignatureError, match=reason):
        verify_event(payload, header(), STRIPE_SECRET, 300)

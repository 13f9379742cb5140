"""Every message survives JSON exactly; bad messages are refused at the boundary."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from libs.common.messages import (
    EVENT_TYPES,
    OrderIntent,
    OrderType,
    PlaceOrder,
    Sizing,
    SizingRule,
    decode_event,
)
from libs.common.messages.base import Message
from tests import factories

ALL_MESSAGES: list[Message] = [
    factories.order_intent(),
    factories.place_order(),
    *factories.every_event(),
]


@pytest.mark.parametrize("message", ALL_MESSAGES, ids=lambda m: type(m).__name__)
def test_every_message_round_trips_through_json_unchanged(message: Message) -> None:
    restored = type(message).model_validate_json(message.to_json())
    assert restored == message
    assert restored.to_json() == message.to_json()


@pytest.mark.parametrize("message", ALL_MESSAGES, ids=lambda m: type(m).__name__)
def test_decimals_travel_as_exact_strings_never_floats(message: Message) -> None:
    def numbers(node: object) -> list[object]:
        if isinstance(node, dict):
            return [n for v in node.values() for n in numbers(v)]
        if isinstance(node, list):
            return [n for v in node for n in numbers(v)]
        return [node] if isinstance(node, float) else []

    assert numbers(json.loads(message.to_json())) == []


def test_precision_beyond_a_float_is_kept() -> None:
    intent = factories.order_intent()
    restored = OrderIntent.model_validate_json(intent.to_json())
    assert restored.alert.quantity == factories.PRECISE
    assert str(restored.alert.price) == "1.2345678901234567E-8"


def test_every_event_kind_decodes_to_its_own_type() -> None:
    events = factories.every_event()
    assert {type(e) for e in events} == set(EVENT_TYPES)
    for event in events:
        decoded = decode_event(event.to_json())
        assert type(decoded) is type(event)
        assert decoded == event


def test_unknown_event_kind_is_refused() -> None:
    payload = json.loads(factories.every_event()[0].to_json())
    payload["kind"] = "order.teleported"
    with pytest.raises(ValidationError):
        decode_event(json.dumps(payload))


def test_messages_are_immutable() -> None:
    order = factories.place_order()
    with pytest.raises(ValidationError):
        order.symbol = "ETH/USDT"  # type: ignore[misc]


def test_unknown_fields_are_refused() -> None:
    payload = json.loads(factories.place_order().to_json()) | {"secret": "x"}
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        PlaceOrder.model_validate(payload)


def test_times_without_a_timezone_are_refused_and_others_become_utc() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        factories.place_order(received_at=datetime(2026, 1, 1, 12, 0))  # noqa: DTZ001
    order = factories.place_order(received_at="2026-01-01T12:00:00+05:30")
    assert order.received_at.isoformat() == "2026-01-01T06:30:00+00:00"


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_amounts_are_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        factories.place_order(limit_price=Decimal(bad))


def test_a_limit_order_without_a_price_is_refused() -> None:
    with pytest.raises(ValidationError, match="limit order needs"):
        factories.place_order(order_type=OrderType.LIMIT, limit_price=None)
    with pytest.raises(ValidationError, match="limit order needs"):
        factories.alert(order_type=OrderType.LIMIT, price=None)


def test_only_a_target_position_may_be_negative_or_zero() -> None:
    assert Sizing(rule=SizingRule.TARGET_POSITION, value=Decimal(0)).value == 0
    with pytest.raises(ValidationError, match="must be positive"):
        Sizing(rule=SizingRule.QUOTE, value=Decimal("-10"))


def test_an_order_belongs_to_the_intent_it_correlates_with() -> None:
    other = factories.order_intent().intent_id
    with pytest.raises(ValidationError, match="correlation_id"):
        factories.place_order(correlation_id=other)


def test_tenant_ids_that_would_break_a_nats_subject_are_refused() -> None:
    for bad in ("a.b", "a b", "a*", "a>", ""):
        with pytest.raises(ValidationError):
            factories.order_intent(tenant_id=bad)


@pytest.mark.parametrize("bad", ["1e30", "1E+131072", "-1e31", "0.0000000000000000000000000000001"])
def test_amounts_too_large_or_too_fine_for_storage_are_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        factories.place_order(limit_price=Decimal(bad))


def test_a_large_but_real_amount_is_kept() -> None:
    price = Decimal("999999999999999999999999999999.5").scaleb(-1)
    assert factories.place_order(limit_price=price).limit_price == price

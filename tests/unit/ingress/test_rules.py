"""What the alert alone shows is wrong is refused at ingress (400), with the field named."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from libs.common.messages import Action, Alert
from services.ingress.domain.normalise import to_alert
from services.ingress.domain.parsing import parse_body
from services.ingress.errors import InvalidAlertError

SHORT_TP = "take_profit of a short must be below 100% (a price cannot fall further)."


def alert(**fields: object) -> Alert:
    body = {"action": "buy", "ticker": "BINANCE:BTCUSDT.P", "qty": "0.01"} | fields
    return to_alert(parse_body(json.dumps(body).encode()).fields)


def problems(**fields: object) -> dict[str, str]:
    with pytest.raises(InvalidAlertError) as caught:
        alert(**fields)
    return {e.field: e.message for e in caught.value.errors}


@pytest.mark.parametrize("action", ["close", "exit", "flat", "close_long", "exit_short", "cancel"])
def test_take_profit_and_stop_loss_on_a_close_or_cancel_are_refused(action: str) -> None:
    found = problems(action=action, tp="2%", sl=59000)

    assert set(found) == {"take_profit", "stop_loss"}
    assert "opens none" in found["take_profit"]


def test_a_target_position_of_flat_drops_the_templates_exits() -> None:
    result = alert(action="sell", qty=None, market_position="flat", position_size=0, tp="2%")

    assert result.is_target_position
    assert result.take_profit is None


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        (
            {"order_type": "limit", "price": 60000, "tp": 59000},
            "take_profit",
            "take_profit 59000 must be above the limit price 60000 for a long.",
        ),
        (
            {"order_type": "limit", "price": 60000, "sl": 60000},
            "stop_loss",
            "stop_loss 60000 must be below the limit price 60000 for a long.",
        ),
        (
            {"action": "sell", "entry": 60000, "tp": 61000},
            "take_profit",
            "take_profit 61000 must be below the limit price 60000 for a short.",
        ),
        (
            {"action": "sell", "entry": 60000, "stopLoss": {"stopPrice": 59000}},
            "stop_loss",
            "stop_loss 59000 must be above the limit price 60000 for a short.",
        ),
        (
            {"tp": 59000, "sl": 60000},
            "stop_loss",
            "stop_loss 60000 must be below take_profit 59000 for a long.",
        ),
        ({"action": "sell", "tp": "100%"}, "take_profit", SHORT_TP),
        ({"market_position": "short", "qty": None, "tp": "150%"}, "take_profit", SHORT_TP),
    ],
)
def test_take_profit_and_stop_loss_on_the_wrong_side_are_refused(
    fields: dict[str, object], field: str, says: str
) -> None:
    assert problems(**fields)[field] == says


def test_exits_on_the_right_side_of_a_limit_entry_are_kept() -> None:
    long = alert(entry=60000, tp=62000, sl=59000)
    short = alert(action="sell", entry=60000, tp=58000, sl="61000")

    assert (long.take_profit and long.take_profit.value) == Decimal(62000)
    assert (short.stop_loss and short.stop_loss.value) == Decimal(61000)


def test_a_short_take_profit_percent_below_100_and_a_long_one_above_are_fine() -> None:
    assert alert(tp="150%").take_profit is not None
    assert alert(action="sell", tp="50%").take_profit is not None


def test_a_cancel_names_the_order_by_client_order_id_or_id() -> None:
    by_field = alert(action="cancel", qty=None, clientOrderId="sp01JABCDEF0")
    by_id = alert(action="cancel", qty=None, id="sp01JABCDEF0")
    everything = alert(action="cancel", qty=None)

    assert by_field.client_order_id == by_id.client_order_id == "sp01JABCDEF0"
    assert by_id.sender_id is None  # a cancel is deduplicated by its body
    assert (everything.action, everything.client_order_id) == (Action.CANCEL, None)


def test_a_client_order_id_goes_only_with_cancel() -> None:
    found = problems(order_id="sp01JABCDEF0")

    assert found["client_order_id"].startswith("client_order_id names an order to cancel")


def test_a_cancel_naming_its_order_twice_is_refused() -> None:
    assert "both name" in problems(action="cancel", id="a", client_order_id="b")["id"]


@pytest.mark.parametrize("leverage", ["0.5", "126", "0", "200x"])
def test_leverage_outside_1_to_125_is_refused(leverage: str) -> None:
    assert problems(leverage=leverage)["leverage"] == "leverage must be from 1 to 125 (times)."


@pytest.mark.parametrize(("given", "expected"), [("1", 1), ("125", 125), ("20x", 20)])
def test_leverage_from_1_to_125_is_kept(given: str, expected: int) -> None:
    assert alert(leverage=given).leverage == Decimal(expected)


def test_entry_is_a_limit_price_and_does_not_fight_price_or_a_market_order() -> None:
    result = alert(entry="60000")

    assert (result.order_type.value, result.price) == ("limit", Decimal(60000))
    assert "both give the limit price" in problems(entry=1, price=2)["entry"]
    assert "order_type is market" in problems(entry=1, order_type="market")["entry"]

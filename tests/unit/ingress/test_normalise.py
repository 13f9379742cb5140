"""From fields to the `Alert` the router acts on, with every problem named."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from libs.common.messages import (
    Action,
    Alert,
    MarketPosition,
    OrderType,
    PriceTarget,
    PriceUnit,
    QuantityType,
)
from services.ingress.domain.normalise import to_alert
from services.ingress.domain.values import Value
from services.ingress.errors import InvalidAlertError


def alert(**fields: Value) -> Alert:
    return to_alert({"action": "buy", "symbol": "BINANCE:BTCUSDT"} | fields)


def problems(**fields: Value) -> dict[str, str]:
    with pytest.raises(InvalidAlertError) as caught:
        to_alert(fields)
    return {e.field: e.message for e in caught.value.errors}


@pytest.mark.parametrize(
    ("given", "action"),
    [
        ("buy", Action.BUY),
        ("LONG", Action.BUY),
        ("sell", Action.SELL),
        ("short", Action.SELL),
        ("close", Action.CLOSE),
        ("exit", Action.CLOSE),
        ("flat", Action.CLOSE),
        ("close_long", Action.CLOSE_LONG),
        ("exit_short", Action.CLOSE_SHORT),
        ("cancel", Action.CANCEL),
    ],
)
def test_action_synonyms_fold_into_the_closed_vocabulary(given: str, action: Action) -> None:
    assert alert(action=given).action is action


def test_quantities_as_text_or_json_numbers_keep_every_digit() -> None:
    assert alert(quantity="0.1").quantity == Decimal("0.1")
    assert alert(quantity=Decimal("12345.123456789012345678901234")).quantity == Decimal(
        "12345.123456789012345678901234"
    )


def test_a_plain_quantity_is_in_the_base_currency() -> None:
    assert alert(quantity="2").quantity_type is QuantityType.BASE


def test_a_percentage_is_of_equity_to_open_and_of_the_position_to_close() -> None:
    opened, closed = alert(quantity="10%"), alert(action="close", quantity=" 50% ")

    assert (opened.quantity, opened.quantity_type) == (Decimal(10), QuantityType.PERCENT_EQUITY)
    assert (closed.quantity, closed.quantity_type) == (Decimal(50), QuantityType.PERCENT_POSITION)


def test_an_explicit_quantity_type_wins() -> None:
    assert alert(quantity=100, quantity_type="Quote").quantity_type is QuantityType.QUOTE


def test_take_profit_and_stop_loss_are_prices_or_percentages() -> None:
    result = alert(take_profit="2.5%", stop_loss=Decimal("41000.5"))

    assert result.take_profit == PriceTarget(value=Decimal("2.5"), unit=PriceUnit.PERCENT)
    assert result.stop_loss == PriceTarget(value=Decimal("41000.5"), unit=PriceUnit.PRICE)


def test_a_limit_order_carries_its_price_and_leverage_may_say_x() -> None:
    result = alert(order_type="LIMIT", price="42000", leverage="10x")

    assert (result.order_type, result.price, result.leverage) == (
        OrderType.LIMIT,
        Decimal(42000),
        Decimal(10),
    )


def test_target_position_fields_are_filled_and_an_unsigned_short_made_negative() -> None:
    result = alert(market_position="short", position_size="0.5")

    assert result.market_position is MarketPosition.SHORT
    assert result.position_size == Decimal("-0.5")
    assert result.is_target_position


def test_times_from_tradingview_and_epoch_milliseconds_are_utc() -> None:
    expected = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    assert alert(time="2026-01-02T03:04:05Z").alert_time == expected
    assert alert(time="2026-01-02T04:04:05+01:00").alert_time == expected
    assert alert(time="2026-01-02 03:04:05").alert_time == expected
    assert alert(time=Decimal(int(expected.timestamp() * 1000))).alert_time == expected


def test_the_sender_id_comment_and_strategy_are_kept() -> None:
    result = alert(id=Decimal(42), comment=" entry ", strategy="EMA", account="main")

    assert (result.sender_id, result.comment, result.strategy) == ("42", "entry", "EMA")
    assert result.account == "main"


def test_every_problem_is_listed_at_once() -> None:
    found = problems(action="hold", quantity="-1", price="abc", leverage="5000", time="later")

    assert found == {
        "action": (
            "action is 'hold'; use one of add, buy, cancel, close, close_long, close_short, sell."
        ),
        "symbol": "symbol is missing.",
        "quantity": "quantity must be more than 0.",
        "price": "price must be a number, not 'abc'.",
        "leverage": "leverage must be from 1 to 125 (times).",
        "time": "time must be a time like 2026-01-02T03:04:05Z, not 'later'.",
    }


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"quantity": Decimal("1e20")}, "quantity", "too large"),
        ({"quantity": "1e-30"}, "quantity", "too many digits"),
        ({"quantity": "NaN"}, "quantity", "must be a number"),
        ({"quantity": True}, "quantity", "must be a number"),
        ({"quantity": ["1"]}, "quantity", "must be a number"),
        ({"quantity": "150%", "action": "close"}, "quantity", "more than 100%"),
        ({"quantity": "5%", "quantity_type": "base"}, "quantity", "ends with %"),
        ({"quantity_type": "base"}, "quantity", "quantity is missing"),
        ({"quantity_type": "lots", "quantity": 1}, "quantity_type", "use one of"),
        ({"order_type": "limit"}, "price", "needed for a limit order"),
        ({"market_position": "flat", "position_size": 1}, "position_size", "must be 0"),
        ({"market_position": "long", "position_size": -1}, "position_size", "below 0"),
        ({"symbol": "{{ticker}}"}, "symbol", "did not replace"),
        ({"comment": "x" * 501}, "comment", "longer than 500"),
        ({"account": {"a": 1}}, "account", "must be text"),
        ({"time": Decimal(10**13)}, "time", "between 2000 and 2100"),
        ({"time": Decimal(10**16)}, "time", "too large"),
        ({"time": "0001-01-01T00:00:00+23:59"}, "time", "between 2000 and 2100"),
    ],
)
def test_bad_values_are_explained(fields: dict[str, Value], field: str, says: str) -> None:
    found = problems(**({"action": "buy", "symbol": "BTCUSDT"} | fields))

    assert says in found[field]


@pytest.mark.parametrize("twelve", ["\u0661\u0662", "\uff11\uff12", "1\u0662"])
def test_numbers_with_non_ascii_digits_are_refused_not_read_as_12(twelve: str) -> None:
    assert "quantity" in problems(action="buy", symbol="BTCUSDT", quantity=twelve)
    assert "price" in problems(action="buy", symbol="BTCUSDT", quantity="1", price=twelve)


@pytest.mark.parametrize("field", ["account", "id", "symbol"])
def test_single_line_text_fields_refuse_control_characters(field: str) -> None:
    found = problems(
        **({"action": "buy", "symbol": "BTCUSDT", "quantity": "1"} | {field: "a\x00b"})
    )
    assert (
        found[field]
        == f"{field} must not contain control characters (such as NUL or a line break)."
    )


def test_free_text_keeps_line_breaks_but_refuses_other_control_characters() -> None:
    assert alert(quantity="1", comment="first line\nsecond").comment == "first line\nsecond"
    found = problems(action="buy", symbol="BTCUSDT", quantity="1", strategy="a\x1b[31mred")
    assert found["strategy"] == "strategy must not contain control characters (such as NUL)."

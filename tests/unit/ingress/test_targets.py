"""Take-profit and stop-loss in every shape traders paste, into the exact `PriceTarget`."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from libs.common.messages import Alert, ExitKind, PriceTarget, PriceUnit
from services.ingress.domain.normalise import to_alert
from services.ingress.domain.parsing import parse_body
from services.ingress.errors import InvalidAlertError

PRICE, PERCENT, AMOUNT = PriceUnit.PRICE, PriceUnit.PERCENT, PriceUnit.AMOUNT


def alert(**fields: object) -> Alert:
    body = {"action": "buy", "ticker": "BINANCE:BTCUSDT.P", "qty": "0.01"} | fields
    return to_alert(parse_body(json.dumps(body).encode()).fields)


def problems(**fields: object) -> dict[str, str]:
    with pytest.raises(InvalidAlertError) as caught:
        alert(**fields)
    return {e.field: e.message for e in caught.value.errors}


def target(value: str, unit: PriceUnit, kind: ExitKind = ExitKind.MARKET) -> PriceTarget:
    return PriceTarget(value=Decimal(value), unit=unit, kind=kind)


@pytest.mark.parametrize(
    ("fields", "take_profit"),
    [
        ({"take_profit": {"limit_price": 62000}}, target("62000", PRICE)),
        ({"takeProfit": {"limitPrice": "62000.5"}}, target("62000.5", PRICE)),
        ({"takeProfit": {"percent": 2}}, target("2", PERCENT)),
        ({"takeProfit": {"percent": "2%"}}, target("2", PERCENT)),
        ({"takeProfit": {"amount": 500}}, target("500", AMOUNT)),
        ({"tp": 62000}, target("62000", PRICE)),
        ({"tp": "2%"}, target("2", PERCENT)),
        ({"take_profit": "62000"}, target("62000", PRICE)),
        ({"tp_percent": 2}, target("2", PERCENT)),
        ({"take_profit_percent": "2.5"}, target("2.5", PERCENT)),
    ],
)
def test_every_take_profit_shape_reads_as_its_target(
    fields: dict[str, object], take_profit: PriceTarget
) -> None:
    assert alert(**fields).take_profit == take_profit


@pytest.mark.parametrize(
    ("fields", "stop_loss"),
    [
        ({"stop_loss": {"stop_price": 59000}}, target("59000", PRICE)),
        ({"stopLoss": {"type": "stop", "stopPrice": "59000"}}, target("59000", PRICE)),
        ({"stopLoss": {"percent": 1}}, target("1", PERCENT)),
        ({"stopLoss": {"type": "STOP", "amount": 300}}, target("300", AMOUNT)),
        (
            {"stopLoss": {"type": "trailing_stop", "trailPercent": 1}},
            target("1", PERCENT, ExitKind.TRAILING),
        ),
        (
            {"stopLoss": {"type": "trailing_stop", "trailAmount": 250}},
            target("250", AMOUNT, ExitKind.TRAILING),
        ),
        ({"stopLoss": {"trail_percent": "0.5"}}, target("0.5", PERCENT, ExitKind.TRAILING)),
        ({"sl": 59000}, target("59000", PRICE)),
        ({"sl": "1%"}, target("1", PERCENT)),
        ({"stop_loss": "1.5%"}, target("1.5", PERCENT)),
        ({"sl_percent": 1}, target("1", PERCENT)),
        ({"stop_loss_percent": "1%"}, target("1", PERCENT)),
        ({"trailing_stop": "1%"}, target("1", PERCENT, ExitKind.TRAILING)),
        ({"trail": 150}, target("150", AMOUNT, ExitKind.TRAILING)),
    ],
)
def test_every_stop_loss_shape_reads_as_its_target(
    fields: dict[str, object], stop_loss: PriceTarget
) -> None:
    assert alert(**fields).stop_loss == stop_loss


def test_a_stop_limit_carries_the_limit_it_becomes_once_triggered() -> None:
    stop = {"type": "stop_limit", "stopPrice": 59000, "limitPrice": 58900}

    assert alert(stopLoss=stop).stop_loss == PriceTarget(
        value=Decimal(59000), unit=PRICE, kind=ExitKind.LIMIT, limit_price=Decimal(58900)
    )


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"stopLoss": {"type": "stop_limit", "stopPrice": 1}}, "stop_loss.limit_price", "needed"),
        ({"stopLoss": {"stopPrice": 5, "limitPrice": 4}}, "stop_loss.limit_price", "stop_limit"),
        (
            {"stopLoss": {"type": "trailing_stop", "stopPrice": 59000}},
            "stop_loss.stop_price",
            "not from a price",
        ),
        ({"stopLoss": {"type": "stop", "trailPercent": 1}}, "stop_loss.type", "trailing_stop"),
        ({"stopLoss": {"type": "oco", "percent": 1}}, "stop_loss.type", "one of stop, stop_limit"),
        ({"stopLoss": {"type": "stop"}}, "stop_loss", "needs one of stop_price, percent"),
        ({"stopLoss": {"percent": 1, "amount": 5}}, "stop_loss", "percent and amount"),
        ({"stopLoss": {"percent": 100}}, "stop_loss.percent", "below 100%"),
        ({"stopLoss": {"percent": 0}}, "stop_loss.percent", "more than 0"),
        ({"sl": "100%"}, "stop_loss", "below 100%"),
        ({"trail": "150%"}, "trailing_stop", "below 100%"),
        ({"sl_percent": "-1"}, "stop_loss_percent", "more than 0"),
        ({"tp": "0%"}, "take_profit", "more than 0"),
        ({"takeProfit": {}}, "take_profit", "needs one of limit_price"),
        ({"takeProfit": {"pnlAmount": 100}}, "take_profit.pnl_amount", "not supported"),
        ({"takeProfit": {"percent": "two"}}, "take_profit.percent", "must be a number"),
        ({"tp": 1, "tp_percent": 2}, "take_profit_percent", "give one"),
        ({"sl": 1, "trail": "1%"}, "trailing_stop", "give one"),
        ({"takeProfit": {"percnt": 2}}, "take_profit.percnt", "did you mean 'percent'?"),
        ({"stopLoss": {"stopPrce": 2}}, "stop_loss.stopPrce", "did you mean 'stopPrice'?"),
        ({"stopLoss": {"percent": 1, "Percent": 2}}, "stop_loss.percent", "given twice"),
    ],
)
def test_a_target_that_cannot_be_placed_is_refused_by_name(
    fields: dict[str, object], field: str, says: str
) -> None:
    assert says in problems(**fields)[field]


def read(line: str) -> Alert:
    return to_alert(parse_body(line.encode()).fields)


def test_a_text_line_with_percent_exits_on_a_perpetual() -> None:
    result = read("buy BTCUSDT.P 0.01 tp=2% sl=1%")

    assert (result.instrument.symbol, result.instrument.perpetual) == ("BTCUSDT", True)
    assert (result.take_profit, result.stop_loss) == (target("2", PERCENT), target("1", PERCENT))


def test_the_signal_channel_format_is_a_limit_entry_with_price_exits() -> None:
    result = read("BUY BTCUSDT entry 60000 tp 62000 sl 59000")

    assert (result.order_type.value, result.price) == ("limit", Decimal(60000))
    assert (result.take_profit, result.stop_loss) == (
        target("62000", PRICE),
        target("59000", PRICE),
    )


def test_a_text_trailing_stop_and_price_exits() -> None:
    assert read("sell ETHUSDT.P 1 trail=1%").stop_loss == target("1", PERCENT, ExitKind.TRAILING)
    assert read("buy BTCUSDT.P 0.01 tp=62000 sl=59000").stop_loss == target("59000", PRICE)

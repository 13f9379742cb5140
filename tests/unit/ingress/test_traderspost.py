"""TradersPost's message dialect, as migrating traders write it, into the exact `Alert`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from libs.common.messages import (
    Action,
    Alert,
    ExitKind,
    Instrument,
    OrderType,
    PriceTarget,
    PriceUnit,
    QuantityType,
)
from services.ingress.domain.normalise import to_alert
from services.ingress.domain.parsing import parse_body
from services.ingress.errors import InvalidAlertError

BTC_PERP = Instrument(raw="BTCUSDT.P", symbol="BTCUSDT", base="BTC", quote="USDT", perpetual=True)


def alert(body: Mapping[str, object]) -> Alert:
    return to_alert(parse_body(json.dumps(body).encode()).fields)


def problems(body: Mapping[str, object]) -> dict[str, str]:
    with pytest.raises(InvalidAlertError) as caught:
        alert(body)
    return {e.field: e.message for e in caught.value.errors}


def test_their_documented_example_reads_as_written() -> None:
    body = {
        "ticker": "BTCUSDT.P",
        "action": "buy",
        "signalPrice": 60000.5,
        "quantity": 1,
        "takeProfit": {"percent": 10},
        "stopLoss": {"type": "stop", "percent": 5},
    }

    assert alert(body) == Alert(
        action=Action.BUY,
        instrument=BTC_PERP,
        quantity=Decimal(1),
        quantity_type=QuantityType.BASE,
        signal_price=Decimal("60000.5"),
        take_profit=PriceTarget(value=Decimal(10), unit=PriceUnit.PERCENT),
        stop_loss=PriceTarget(value=Decimal(5), unit=PriceUnit.PERCENT, kind=ExitKind.MARKET),
    )


def test_their_strategy_template_as_tradingview_renders_it() -> None:
    body = {
        "ticker": "BTCUSDT.P",
        "action": "sell",
        "sentiment": "short",
        "quantity": "0.02",
        "price": "61000",
        "time": "2026-01-02T03:04:05Z",
        "interval": "15",
        "extras": {"anything": ["goes", 1]},
    }

    assert alert(body) == Alert(
        action=Action.SELL,
        instrument=BTC_PERP,
        quantity=Decimal("0.02"),
        quantity_type=QuantityType.BASE,
        price=Decimal(61000),
        alert_time=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


def test_a_limit_entry_with_their_order_type_and_limit_price() -> None:
    body = {
        "ticker": "BTCUSDT.P",
        "action": "buy",
        "orderType": "limit",
        "limitPrice": 60000,
        "quantityType": "dollar_amount",
        "quantity": 500,
        "stopLoss": {"type": "stop_limit", "stopPrice": 59000, "limitPrice": 58900},
    }

    result = alert(body)

    assert (result.order_type, result.price) == (OrderType.LIMIT, Decimal(60000))
    assert (result.quantity, result.quantity_type) == (Decimal(500), QuantityType.QUOTE)
    assert result.stop_loss == PriceTarget(
        value=Decimal(59000),
        unit=PriceUnit.PRICE,
        kind=ExitKind.LIMIT,
        limit_price=Decimal(58900),
    )


@pytest.mark.parametrize(
    ("action", "sentiment", "becomes"),
    [
        ("buy", "bullish", Action.BUY),
        ("buy", "long", Action.BUY),
        ("sell", "bearish", Action.SELL),
        ("sell", "short", Action.SELL),
        ("sell", "bullish", Action.CLOSE_LONG),
        ("sell", "long", Action.CLOSE_LONG),
        ("buy", "bearish", Action.CLOSE_SHORT),
        ("buy", "short", Action.CLOSE_SHORT),
        ("sell", "flat", Action.CLOSE_LONG),
        ("buy", "flat", Action.CLOSE_SHORT),
        ("exit", "flat", Action.CLOSE),
        ("exit", "long", Action.CLOSE),
        ("exit", None, Action.CLOSE),
        ("add", "bullish", Action.BUY),
        ("add", "short", Action.SELL),
        ("add", None, Action.ADD),
        ("cancel", "long", Action.CANCEL),
    ],
)
def test_sentiment_says_the_position_after_the_signal(
    action: str, sentiment: str | None, becomes: Action
) -> None:
    body = {"ticker": "BTCUSDT.P", "action": action, "sentiment": sentiment}

    result = alert(body)

    assert result.action is becomes
    assert result.market_position is None  # never a target-position alert


def test_a_partial_exit_keeps_its_quantity_and_a_flat_one_closes_everything() -> None:
    partial = alert({"ticker": "BTCUSDT.P", "action": "sell", "sentiment": "long", "qty": 1})
    flat = alert({"ticker": "BTCUSDT.P", "action": "sell", "sentiment": "flat", "qty": 1})

    assert (partial.action, partial.quantity) == (Action.CLOSE_LONG, Decimal(1))
    assert (flat.action, flat.quantity, flat.quantity_type) == (Action.CLOSE_LONG, None, None)


def test_a_percentage_of_a_partial_exit_is_of_the_position() -> None:
    body = {"ticker": "BTCUSDT.P", "action": "sell", "sentiment": "long", "qty": "50%"}

    assert alert(body).quantity_type is QuantityType.PERCENT_POSITION


@pytest.mark.parametrize(
    ("given", "kind"),
    [
        ("fixed_quantity", QuantityType.BASE),
        ("dollar_amount", QuantityType.QUOTE),
        ("percent_of_equity", QuantityType.PERCENT_EQUITY),
        ("percent_of_position", QuantityType.PERCENT_POSITION),
    ],
)
def test_their_quantity_types_map_to_ours(given: str, kind: QuantityType) -> None:
    body = {"ticker": "BTCUSDT.P", "action": "buy", "quantityType": given, "quantity": 10}

    assert alert(body).quantity_type is kind


@pytest.mark.parametrize("risk", ["risk_dollar_amount", "risk_percent"])
def test_risk_based_sizing_is_refused_saying_what_to_use(risk: str) -> None:
    body = {"ticker": "BTCUSDT.P", "action": "buy", "quantityType": risk, "quantity": 100}

    found = problems(body)["quantity_type"]

    assert "use a fixed quantity, dollar_amount or percent_of_equity" in found


def test_adding_while_flat_contradicts_itself() -> None:
    found = problems({"ticker": "BTCUSDT.P", "action": "add", "sentiment": "flat"})

    assert "add adds to a position" in found["sentiment"]


def test_an_unknown_sentiment_and_a_stop_entry_are_refused() -> None:
    found = problems(
        {"ticker": "BTCUSDT.P", "action": "buy", "sentiment": "neutral", "orderType": "stop"}
    )

    assert "use one of flat, long, short" in found["sentiment"]
    assert "use one of limit, market" in found["order_type"]


def test_a_template_that_carries_exits_on_every_order_places_its_closes_without_them() -> None:
    body = {
        "ticker": "BTCUSDT.P",
        "action": "sell",
        "sentiment": "flat",
        "takeProfit": {"percent": 2},
        "stopLoss": {"percent": 1},
    }

    result = alert(body)

    assert (result.action, result.take_profit, result.stop_loss) == (
        Action.CLOSE_LONG,
        None,
        None,
    )

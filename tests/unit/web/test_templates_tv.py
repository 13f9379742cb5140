"""The TradingView messages the onboarding page offers: docs/alerts.md's templates, filled in."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from services.web.templates_tv import (
    Sizing,
    TemplateError,
    TemplateOptions,
    alert_templates,
    sample_alert,
)

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_fixed_size_json_and_text() -> None:
    options = TemplateOptions.parse("BINANCE:ETHUSDT", "base", "0.5")
    as_json, text = alert_templates(options)
    assert json.loads(as_json) == {
        "action": "buy",
        "ticker": "BINANCE:ETHUSDT",
        "qty": "0.5",
        "time": "{{timenow}}",
    }
    assert text == "buy BINANCE:ETHUSDT 0.5 time={{timenow}}"


def test_money_sizing_says_quote() -> None:
    as_json, text = alert_templates(TemplateOptions.parse("BINANCE:BTCUSDT", "quote", "100"))
    assert json.loads(as_json)["quantity_type"] == "quote"
    assert text == "buy BINANCE:BTCUSDT 100 quantity_type=quote time={{timenow}}"


def test_percent_sizing_writes_a_percentage() -> None:
    as_json, text = alert_templates(TemplateOptions.parse("BTCUSDT", "percent", "10%"))
    assert json.loads(as_json)["qty"] == "10%"
    assert text.startswith("buy BTCUSDT 10% ")


def test_strategy_sizing_uses_tradingview_placeholders_and_names() -> None:
    options = TemplateOptions.parse("{{exchange}}:{{ticker}}", "strategy", "", "EMA cross", "main")
    as_json, text = alert_templates(options)
    assert json.loads(as_json) == {
        "action": "{{strategy.order.action}}",
        "ticker": "{{exchange}}:{{ticker}}",
        "account": "main",
        "qty": "{{strategy.order.contracts}}",
        "strategy": "EMA cross",
        "time": "{{timenow}}",
    }
    assert 'strategy="EMA cross"' in text
    assert text.startswith("{{strategy.order.action}} {{exchange}}:{{ticker}} ")


def test_test_alert_has_no_placeholders_left() -> None:
    options = TemplateOptions.parse("BINANCE:BTCUSDT", "strategy", "", "EMA")
    alert = sample_alert(options, NOW)
    assert alert == {
        "action": "buy",
        "ticker": "BINANCE:BTCUSDT",
        "qty": "0.001",
        "strategy": "EMA",
        "time": "2026-03-02T09:30:00Z",
    }
    assert "{{" not in json.dumps(alert)


@pytest.mark.parametrize(
    ("symbol", "sizing", "amount", "words"),
    [
        ("BTC USDT", "base", "1", "symbol"),
        ("BTCUSDT", "lots", "1", "sized"),
        ("BTCUSDT", "base", "abc", "number"),
        ("BTCUSDT", "base", "0", "above 0"),
        ("BTCUSDT", "percent", "150", "at most 100"),
    ],
)
def test_bad_options_are_refused_in_words(
    symbol: str, sizing: str, amount: str, words: str
) -> None:
    with pytest.raises(TemplateError, match=words):
        TemplateOptions.parse(symbol, sizing, amount)


def test_sizing_values_are_the_form_values() -> None:
    assert [s.value for s in Sizing] == ["base", "quote", "percent", "strategy"]

"""The one-line text alert, as documented in docs/alerts.md."""

from __future__ import annotations

import pytest

from services.ingress.domain.textgrammar import parse_text
from services.ingress.errors import InvalidAlertError


@pytest.mark.parametrize(
    ("line", "pairs"),
    [
        ("buy BTCUSDT 0.01", [("action", "buy"), ("symbol", "BTCUSDT"), ("quantity", "0.01")]),
        ("close ETHUSDT", [("action", "close"), ("symbol", "ETHUSDT")]),
        ("close ETHUSDT 50%", [("action", "close"), ("symbol", "ETHUSDT"), ("quantity", "50%")]),
        (
            "buy BINANCE:BTCUSDT 100 USDT",
            [
                ("action", "buy"),
                ("symbol", "BINANCE:BTCUSDT"),
                ("quantity", "100"),
                ("quantity_type", "quote"),
            ],
        ),
        (
            "sell BTC/USDT 0.5 btc",
            [
                ("action", "sell"),
                ("symbol", "BTC/USDT"),
                ("quantity", "0.5"),
                ("quantity_type", "base"),
            ],
        ),
        (
            'buy ETHUSDT 1 order_type=limit price=2500 sl=1% comment="breakout long"',
            [
                ("action", "buy"),
                ("symbol", "ETHUSDT"),
                ("quantity", "1"),
                ("order_type", "limit"),
                ("price", "2500"),
                ("sl", "1%"),
                ("comment", "breakout long"),
            ],
        ),
        ("long XAUUSD tp=2%", [("action", "long"), ("symbol", "XAUUSD"), ("tp", "2%")]),
        (
            "buy BTCUSDT.P 0.01 tp=2% sl=1%",
            [
                ("action", "buy"),
                ("symbol", "BTCUSDT.P"),
                ("quantity", "0.01"),
                ("tp", "2%"),
                ("sl", "1%"),
            ],
        ),
        (
            "BUY BTCUSDT entry 60000 tp 62000 sl 59000",
            [
                ("action", "BUY"),
                ("symbol", "BTCUSDT"),
                ("entry", "60000"),
                ("tp", "62000"),
                ("sl", "59000"),
            ],
        ),
        (
            "sell ETHUSDT.P 1 Entry: 2500 TP: 2400 SL:2550",
            [
                ("action", "sell"),
                ("symbol", "ETHUSDT.P"),
                ("quantity", "1"),
                ("entry", "2500"),
                ("tp", "2400"),
                ("sl", "2550"),
            ],
        ),
        (
            "buy BTCUSDT.P 0.01 trail=1%",
            [("action", "buy"), ("symbol", "BTCUSDT.P"), ("quantity", "0.01"), ("trail", "1%")],
        ),
        (
            "cancel BTCUSDT.P id=sp01JABCDEF",
            [("action", "cancel"), ("symbol", "BTCUSDT.P"), ("id", "sp01JABCDEF")],
        ),
    ],
)
def test_documented_lines_read_as_documented(line: str, pairs: list[tuple[str, str]]) -> None:
    assert parse_text(line) == pairs


def test_tradingviews_default_strategy_message_is_understood() -> None:
    line = (
        "EMA cross (9, 21): order sell @ 0.002 filled on BINANCE:BTCUSDT.P. "
        "New strategy position is -0.002"
    )

    assert parse_text(line) == [
        ("action", "sell"),
        ("quantity", "0.002"),
        ("symbol", "BINANCE:BTCUSDT.P"),
        ("position_size", "-0.002"),
    ]


@pytest.mark.parametrize(
    ("line", "field", "says"),
    [
        ("BTCUSDT", "symbol", "symbol is missing"),
        ("qty=1 buy BTCUSDT", "action", "must start with an action"),
        ("buy qty=1", "symbol", "symbol is missing"),
        ("buy BTCUSDT 1 2 3", "quantity", "is not a size"),
        ("buy BTCUSDT 1 ETH", "quantity", "neither side of 'BTCUSDT'"),
        ("buy BTCUSDT 50% USDT", "quantity", "is not a size"),
        ("buy BTCUSDT 1 price=1 oops", "body", "'oops' is not understood"),
        ("buy BTCUSDT =1", "body", "is not understood"),
        ('buy BTCUSDT comment="open', "body", "quote that is not closed"),
        ("buy " + "x" * 2000, "body", "at most 1000 characters"),
        ("buy BTCUSDT 1 tp", "tp", "needs a value after it"),
        ("buy BTCUSDT entry tp 1", "entry", "needs a value after it"),
    ],
)
def test_lines_that_do_not_fit_the_grammar_are_refused_with_a_hint(
    line: str, field: str, says: str
) -> None:
    with pytest.raises(InvalidAlertError) as caught:
        parse_text(line)

    (error,) = caught.value.errors
    assert error.field == field
    assert says in error.message

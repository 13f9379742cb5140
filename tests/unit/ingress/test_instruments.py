"""TradingView tickers: kept as sent, plus the parts the router maps to a market."""

from __future__ import annotations

import pytest

from services.ingress.domain.instruments import parse_instrument
from services.ingress.domain.values import FieldValueError

Parts = tuple[str | None, str, str | None, str | None, bool]


@pytest.mark.parametrize(
    ("raw", "parts"),
    [
        ("BINANCE:BTCUSDT.P", ("BINANCE", "BTCUSDT", "BTC", "USDT", True)),
        ("BTCUSDT.P", (None, "BTCUSDT", "BTC", "USDT", True)),
        ("BINANCE:BTCUSDTPERP", ("BINANCE", "BTCUSDT", "BTC", "USDT", True)),
        ("BTCUSDT_PERP", (None, "BTCUSDT", "BTC", "USDT", True)),
        ("ETHUSDT-PERP", (None, "ETHUSDT", "ETH", "USDT", True)),
        ("OKX:BTC-USDT-SWAP", ("OKX", "BTCUSDT", "BTC", "USDT", True)),
        ("BTC-USD-SWAP", (None, "BTCUSD", "BTC", "USD", True)),
        ("BTC-PERP", (None, "BTC", None, None, True)),
        ("BTC/USDT", (None, "BTC/USDT", "BTC", "USDT", False)),
        ("BTC/USDT:USDT", (None, "BTC/USDT:USDT", "BTC", "USDT", True)),
        ("BYBIT:ETH/USDT:USDT", ("BYBIT", "ETH/USDT:USDT", "ETH", "USDT", True)),
        ("binance:ethbtc", ("BINANCE", "ETHBTC", "ETH", "BTC", False)),
        ("1000PEPEUSDT", (None, "1000PEPEUSDT", "1000PEPE", "USDT", False)),
        ("COINBASE:BTCUSD", ("COINBASE", "BTCUSD", "BTC", "USD", False)),
        ("CME_DL:ES1!", ("CME", "ES1!", None, None, False)),
        ("BINANCE_DL:BTCUSDT_DL", ("BINANCE", "BTCUSDT", "BTC", "USDT", False)),
        ("NASDAQ:AAPL", ("NASDAQ", "AAPL", None, None, False)),
        ("NYSE:BRK.B", ("NYSE", "BRK.B", None, None, False)),
    ],
)
def test_tickers_split_into_exchange_symbol_base_quote_and_perpetual(
    raw: str, parts: Parts
) -> None:
    instrument = parse_instrument(raw)

    assert instrument.raw == raw
    assert (
        instrument.exchange,
        instrument.symbol,
        instrument.base,
        instrument.quote,
        instrument.perpetual,
    ) == parts


def test_the_raw_ticker_is_kept_exactly_as_sent_apart_from_surrounding_spaces() -> None:
    assert parse_instrument("  Binance:btcusdt.p ").raw == "Binance:btcusdt.p"


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("", "is empty"),
        ("BIN ANCE:BTCUSDT", "exchange prefix"),
        (":BTCUSDT", "exchange prefix"),
        ("BTC USDT", "is not a ticker"),
        ("BTC/", "is not a pair"),
        ("/USDT", "is not a pair"),
        ("BTC/USDT:", "is not a pair"),
        ("A:B:C", "is not a ticker"),
        ("X" * 65, "longer than 64"),
        ("{{ticker}}", "did not replace"),
    ],
)
def test_what_is_not_a_ticker_is_refused(raw: str, says: str) -> None:
    with pytest.raises(FieldValueError, match=says):
        parse_instrument(raw)

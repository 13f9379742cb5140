"""TradingView tickers become the account's ccxt symbols; allow- and blocklists apply."""

from __future__ import annotations

import pytest

from libs.common.messages import RejectReason
from libs.common.records import MarketType
from services.router.domain.layers import TenantSettings
from services.router.domain.symbols import split_pair, unified_symbol
from tests.helpers.router import futures, instrument, intent, layer
from tests.unit.router.world import World

SPOT = World()
FUTURES = World(accounts={"main": futures()})


@pytest.mark.parametrize(
    ("raw", "market", "expected"),
    [
        ("BINANCE:BTCUSDT", MarketType.SPOT, "BTC/USDT"),
        ("BTCUSDT", MarketType.FUTURES, "BTC/USDT:USDT"),
        ("BINANCE:BTCUSDT.P", MarketType.FUTURES, "BTC/USDT:USDT"),
        ("BYBIT:BTCUSD.P", MarketType.FUTURES, "BTC/USD:BTC"),
        ("ETHFDUSD", MarketType.SPOT, "ETH/FDUSD"),
        ("ETHBTC", MarketType.SPOT, "ETH/BTC"),
        ("BTC/USDT", MarketType.SPOT, "BTC/USDT"),
        ("BTC/USDT", MarketType.FUTURES, "BTC/USDT:USDT"),
        ("BTC/USDT:USDT", MarketType.FUTURES, "BTC/USDT:USDT"),
    ],
)
def test_tickers_map_to_the_accounts_market(raw: str, market: MarketType, expected: str) -> None:
    assert unified_symbol(instrument(raw), market, None) == expected


def test_a_perpetual_on_a_spot_account_is_refused_as_unknown_symbol() -> None:
    rejection = SPOT.rejected(intent(instrument=instrument("BINANCE:BTCUSDT.P")))
    assert rejection.reason is RejectReason.UNKNOWN_SYMBOL
    assert "futures contract" in rejection.message


def test_a_ticker_with_an_unknown_quote_is_refused_and_told_how_to_map_it() -> None:
    rejection = SPOT.rejected(intent(instrument=instrument("XAUXYZ")))
    assert rejection.reason is RejectReason.UNKNOWN_SYMBOL
    assert "ccxt_symbol" in rejection.message


def test_a_symbol_mapping_in_settings_wins_over_the_automatic_one() -> None:
    settings = TenantSettings(symbols={("main", "XAUXYZ"): layer(ccxt_symbol="XAU/USDT:USDT")})
    order = FUTURES.but(settings=settings).placed(intent(instrument=instrument("XAUXYZ")))
    assert order.orders[0].symbol == "XAU/USDT:USDT"


def test_split_pair_prefers_the_longest_known_quote() -> None:
    assert split_pair("BTCUSDT") == ("BTC", "USDT")
    assert split_pair("BTCFDUSD") == ("BTC", "FDUSD")
    assert split_pair("USDT") is None
    assert split_pair("FOO") is None


def test_a_symbol_outside_the_allowlist_is_refused() -> None:
    settings = TenantSettings(tenant=layer(allowed_symbols=["ETHUSDT", "SOLUSDT"]))
    rejection = SPOT.but(settings=settings).rejected(intent())
    assert rejection.reason is RejectReason.SYMBOL_NOT_ALLOWED
    assert "ETHUSDT" in rejection.message


def test_the_allowlist_matches_the_ticker_or_the_ccxt_symbol_in_any_case() -> None:
    for entry in ("btcusdt", "BTC/USDT", "BINANCE:BTCUSDT"):
        settings = TenantSettings(accounts={"main": layer(allowed_symbols=[entry])})
        assert SPOT.but(settings=settings).placed(intent())


def test_a_blocked_symbol_is_refused() -> None:
    settings = TenantSettings(tenant=layer(blocked_symbols=["BTC/USDT"]))
    perp = intent(instrument=instrument("BINANCE:BTCUSDT.P"))
    rejection = FUTURES.but(settings=settings).rejected(perp)
    assert rejection.reason is RejectReason.SYMBOL_NOT_ALLOWED
    assert "blocked" in rejection.message


def test_an_account_list_replaces_the_tenant_list() -> None:
    settings = TenantSettings(
        tenant=layer(blocked_symbols=["BTCUSDT"]), accounts={"main": layer(blocked_symbols=[])}
    )
    assert SPOT.but(settings=settings).placed(intent())

"""Position math against cases computed by hand (numbers in the comments)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libs.common.messages import Side
from services.ledger.domain.positions import (
    ENTRY,
    FillOutcome,
    Market,
    Position,
    Trade,
    apply_fill,
    market_of,
    write_off,
)

D = Decimal
T0 = datetime(2026, 3, 2, tzinfo=UTC)
BTC_USDT = Market("BTC", "USDT")


def trade(
    side: Side,
    amount: str,
    price: str,
    *,
    fee: str = "0",
    currency: str | None = "USDT",
    n: int = 0,
) -> Trade:
    return Trade(side, D(price), D(amount), D(fee), currency, T0 + timedelta(minutes=n))


def run(trades: Iterable[Trade], market: Market = BTC_USDT) -> Position:
    position = Position()
    for item in trades:
        position = apply_fill(position, item, market).position
    return position


def test_partial_fills_of_one_buy_average_their_prices() -> None:
    # 0.4 @ 100 + 0.6 @ 110 = 40 + 66 = 106 for 1.0
    position = run([trade(Side.BUY, "0.4", "100"), trade(Side.BUY, "0.6", "110")])
    assert position.quantity == D("1.0")
    assert position.average_price == D(106)
    assert position.realized_pnl == 0


def test_adding_to_a_long_moves_the_entry_to_the_weighted_average() -> None:
    # 1 @ 100 + 1 @ 103 -> 2 @ 101.5
    position = run([trade(Side.BUY, "1", "100"), trade(Side.BUY, "1", "103")])
    assert (position.quantity, position.average_price) == (D(2), D("101.5"))


def test_adding_to_a_short_averages_the_same_way() -> None:
    # -1 @ 100, -1 @ 90 -> -2 @ 95
    position = run([trade(Side.SELL, "1", "100"), trade(Side.SELL, "1", "90")])
    assert (position.quantity, position.average_price) == (D(-2), D(95))


def test_partial_close_realizes_pnl_on_the_closed_part_only() -> None:
    # 2 @ 101.5, sell 0.5 @ 110: 0.5 x 8.5 = 4.25 realized; 1.5 left at 101.5
    position = run(
        [
            trade(Side.BUY, "1", "100"),
            trade(Side.BUY, "1", "103"),
            trade(Side.SELL, "0.5", "110"),
        ]
    )
    assert position.quantity == D("1.5")
    assert position.average_price == D("101.5")
    assert position.realized_pnl == D("4.25")


def test_closing_exactly_goes_flat_with_no_entry_price() -> None:
    position = run([trade(Side.BUY, "1", "100"), trade(Side.SELL, "1", "120", n=1)])
    assert position.quantity == 0
    assert position.average_price == 0
    assert position.realized_pnl == D(20)
    assert position.opened_at is None


def test_selling_more_than_the_long_flips_to_a_short_at_the_fill_price() -> None:
    # long 1 @ 100, sell 3 @ 90: closes 1 for -10, opens short 2 @ 90
    position = run([trade(Side.BUY, "1", "100"), trade(Side.SELL, "3", "90", n=5)])
    assert position.quantity == D(-2)
    assert position.average_price == D(90)
    assert position.realized_pnl == D(-10)
    assert position.opened_at == T0 + timedelta(minutes=5)


def test_buying_more_than_the_short_flips_to_a_long_at_the_fill_price() -> None:
    # short 2 @ 90, buy 5 @ 80: closes 2 for +20, opens long 3 @ 80
    position = run([trade(Side.SELL, "2", "90"), trade(Side.BUY, "5", "80")])
    assert position.quantity == D(3)
    assert position.average_price == D(80)
    assert position.realized_pnl == D(20)


def test_fee_in_quote_currency_is_subtracted_from_realized_pnl() -> None:
    # -0.1 (open fee) + 10 (gain) - 0.11 (close fee) = 9.79; fees 0.21 USDT
    position = run(
        [
            trade(Side.BUY, "1", "100", fee="0.1"),
            trade(Side.SELL, "1", "110", fee="0.11"),
        ]
    )
    assert position.realized_pnl == D("9.79")
    assert position.fees == {"USDT": D("0.21")}


def test_fee_in_base_currency_leaves_the_position_with_the_coins_and_is_not_converted() -> None:
    outcome = apply_fill(
        Position(), trade(Side.BUY, "1", "100", fee="0.001", currency="BTC"), BTC_USDT
    )
    assert outcome.position.fees == {"BTC": D("0.001")}
    assert outcome.position.realized_pnl == 0
    # What the wallet holds, and so what a close sells: 100 USDT paid for 0.999 BTC.
    assert outcome.position.quantity == D("0.999")
    assert outcome.position.average_price == ENTRY.divide(D(100), D("0.999"))
    assert outcome.quote_fee == 0


def test_a_base_fee_bought_position_sold_whole_ends_flat_with_the_fee_in_its_pnl() -> None:
    # Bought 0.001 BTC at 60,000 paying 0.000001 BTC; the close sells the 0.000999 held.
    position = run(
        [
            trade(Side.BUY, "0.001", "60000", fee="0.000001", currency="BTC"),
            trade(Side.SELL, "0.000999", "61000", fee="0.060939", currency="USDT"),
        ]
    )
    assert position.quantity == 0
    # 0.000999 * 61,000 - 60 USDT paid - 0.060939 USDT fee, exactly (the entry price repeats)
    assert position.realized_pnl == D("0.878061")


def test_a_write_off_takes_coins_off_at_the_entry_price_and_realizes_nothing() -> None:
    held = run([trade(Side.BUY, "0.1", "60000")])
    less = write_off(held, D("0.06"), T0)
    assert (less.quantity, less.average_price, less.realized_pnl) == (
        D("0.04"),
        D(60000),
        held.realized_pnl,
    )
    flat = write_off(held, D("0.1"), T0)
    assert (flat.quantity, flat.average_price, flat.opened_at) == (D(0), D(0), None)


def test_fee_in_a_third_currency_is_kept_apart() -> None:
    position = run(
        [
            trade(Side.BUY, "1", "100", fee="0.0005", currency="BNB"),
            trade(Side.SELL, "1", "101", fee="0.0004", currency="BNB"),
        ]
    )
    assert position.realized_pnl == D(1)
    assert position.fees == {"BNB": D("0.0009")}


def test_fees_in_several_currencies_are_each_kept() -> None:
    position = run(
        [
            trade(Side.BUY, "1", "100", fee="0.1", currency="usdt"),
            trade(Side.BUY, "1", "100", fee="0.001", currency="BTC"),
            trade(Side.BUY, "1", "100", fee="0.01", currency=None),
        ]
    )
    assert position.fees == {"USDT": D("0.1"), "BTC": D("0.001"), "UNKNOWN": D("0.01")}
    assert position.realized_pnl == D("-0.1")


def test_realized_delta_reports_pnl_net_of_the_quote_fee() -> None:
    opened = run([trade(Side.BUY, "2", "100")])
    outcome: FillOutcome = apply_fill(opened, trade(Side.SELL, "1", "105", fee="0.5"), BTC_USDT)
    assert outcome.realized_delta == D("4.5")
    assert outcome.quote_fee == D("0.5")


def test_decimals_stay_exact_beyond_float_precision() -> None:
    amount, price = "0.000123456789012345678", "12345.123456789012345678901234"
    position = run(
        [trade(Side.BUY, amount, price), trade(Side.SELL, amount, "12346.123456789012345678901234")]
    )
    assert position.realized_pnl == D(amount)


def test_an_entry_that_does_not_divide_evenly_is_rounded_to_34_digits() -> None:
    position = run([trade(Side.BUY, "1", "100"), trade(Side.BUY, "2", "101")])
    assert position.average_price == D("100.6666666666666666666666666666667")


@pytest.mark.parametrize(
    ("symbol", "market"),
    [
        ("BTC/USDT", Market("BTC", "USDT")),
        ("BTC/USDT:USDT", Market("BTC", "USDT")),
        ("ETH/USD:ETH-250328", Market("ETH", "USD")),
        ("BTCUSDT", Market("BTCUSDT", None)),
    ],
)
def test_unified_symbols_give_base_and_quote(symbol: str, market: Market) -> None:
    assert market_of(symbol) == market


def test_a_fee_cannot_be_taken_from_pnl_when_the_quote_is_unknown() -> None:
    outcome = apply_fill(Position(), trade(Side.BUY, "1", "100", fee="0.1"), market_of("BTCUSDT"))
    assert outcome.position.realized_pnl == 0
    assert outcome.position.fees == {"USDT": D("0.1")}


amounts = st.decimals(min_value=D("0.001"), max_value=D(1000), places=3)
prices = st.decimals(min_value=D("0.01"), max_value=D(100_000), places=2)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(Side), amounts, prices), min_size=1, max_size=12))
def test_a_round_trip_to_flat_realizes_sales_minus_purchases(
    fills: list[tuple[Side, Decimal, Decimal]],
) -> None:
    trades = [Trade(side, price, amount, D(0), None, T0) for side, amount, price in fills]
    net = sum((t.signed_change(BTC_USDT) for t in trades), D(0))
    if net:  # close whatever is left at the last price
        last = trades[-1].price
        trades.append(Trade(Side.SELL if net > 0 else Side.BUY, last, abs(net), D(0), None, T0))
    position = run(trades)
    cash = sum((t.price * t.amount * (-1 if t.side is Side.BUY else 1) for t in trades), D(0))
    assert position.quantity == 0
    # Exactly: the cost is kept exact, whatever the average entry prices round to.
    assert position.realized_pnl == cash

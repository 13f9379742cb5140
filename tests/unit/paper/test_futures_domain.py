"""The futures decisions alone: positions, triggers, trailing stops, liquidation, funding."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from services.paper.domain import futures as domain
from services.paper.errors import BinanceError
from services.paper.futures.models import (
    AlgoOrder,
    AlgoStatus,
    FuturesTif,
    FuturesType,
    MarginType,
    Position,
)
from services.paper.models import ZERO, Side

D = Decimal
FLAT = Position(1, "BTCUSDT", leverage=10)


def _fill(p: Position, side: Side, qty: str, price: str) -> domain.Applied:
    return domain.apply_fill(p, side, D(qty), D(price), 0)


def test_an_increase_averages_the_entry_and_realizes_nothing() -> None:
    first = _fill(FLAT, Side.BUY, "1", "100").position
    second = _fill(first, Side.BUY, "1", "110")
    assert (second.position.amount, second.position.entry_price, second.realized) == (
        D(2),
        D(105),
        D(0),
    )


def test_a_reduce_realizes_pnl_and_keeps_the_entry() -> None:
    short = _fill(FLAT, Side.SELL, "2", "100").position
    covered = _fill(short, Side.BUY, "1", "90")
    assert (covered.position.amount, covered.position.entry_price) == (D(-1), D(100))
    assert covered.realized == 10


def test_a_flip_closes_at_the_old_entry_and_opens_the_rest_at_the_fill() -> None:
    long = _fill(FLAT, Side.BUY, "1", "100").position
    flipped = _fill(long, Side.SELL, "3", "120")
    assert (flipped.position.amount, flipped.position.entry_price) == (D(-2), D(120))
    assert flipped.realized == 20


def test_isolated_margin_follows_the_position() -> None:
    isolated = replace(FLAT, margin_type=MarginType.ISOLATED)
    opened = _fill(isolated, Side.BUY, "2", "100").position
    assert opened.isolated_margin == 20
    assert _fill(opened, Side.SELL, "1", "100").position.isolated_margin == 10
    assert _fill(opened, Side.SELL, "2", "100").position.isolated_margin == 0


def test_reduce_only_refuses_opening_adding_and_flipping() -> None:
    long = _fill(FLAT, Side.BUY, "1", "100").position
    for position, side, qty in (
        (FLAT, Side.SELL, "1"),
        (long, Side.BUY, "1"),
        (long, Side.SELL, "2"),
    ):
        with pytest.raises(BinanceError) as refused:
            domain.check_reduce_only(position, side, D(qty))
        assert refused.value.code == -2022
    domain.check_reduce_only(long, Side.SELL, D(1))


@pytest.mark.parametrize(
    ("kind", "side", "price", "fires"),
    [
        (FuturesType.STOP_MARKET, Side.SELL, "99", True),
        (FuturesType.STOP_MARKET, Side.SELL, "101", False),
        (FuturesType.STOP_MARKET, Side.BUY, "101", True),
        (FuturesType.TAKE_PROFIT_MARKET, Side.SELL, "101", True),
        (FuturesType.TAKE_PROFIT_MARKET, Side.SELL, "99", False),
        (FuturesType.TAKE_PROFIT, Side.BUY, "99", True),
    ],
)
def test_stops_and_take_profits_fire_on_their_side_of_the_trigger(
    kind: FuturesType, side: Side, price: str, *, fires: bool
) -> None:
    assert domain.would_trigger(kind, side, D(100), D(price)) is fires


def _trailing(side: Side, rate: str, activate: str = "0") -> AlgoOrder:
    return AlgoOrder(
        1, 1, "BTCUSDT", "t", side, FuturesType.TRAILING_STOP_MARKET, D(1), ZERO, ZERO,
        FuturesTif.GTC, reduce_only=True, close_position=False, callback_rate=D(rate),
        activate_price=D(activate), best_price=ZERO, status=AlgoStatus.NEW, actual_order_id=0,
        executed_qty=ZERO, avg_price=ZERO, created_ms=0, updated_ms=0, trigger_ms=0,
    )  # fmt: skip


def test_a_trailing_sell_fires_on_a_pull_back_from_the_best_price() -> None:
    order = _trailing(Side.SELL, "1")
    best = domain.trail(order, D(100)).best
    higher = domain.trail(replace(order, best_price=best), D(110))
    assert higher.best == 110
    assert not higher.fires
    assert not domain.trail(replace(order, best_price=D(110)), D("109")).fires
    assert domain.trail(replace(order, best_price=D(110)), D("108.9")).fires


def test_a_trailing_stop_waits_for_its_activation_price() -> None:
    order = _trailing(Side.SELL, "1", activate="105")
    assert domain.trail(order, D(100)) == domain.Trail(ZERO, fires=False)
    assert domain.trail(order, D(106)).best == 106


def test_liquidation_price_of_isolated_long_and_short() -> None:
    isolated = replace(FLAT, margin_type=MarginType.ISOLATED)
    long = _fill(isolated, Side.BUY, "1", "100").position  # margin 10
    short = _fill(isolated, Side.SELL, "1", "100").position
    rate = D("0.004")
    long_liq = domain.liquidation_price(long, ZERO, rate)
    short_liq = domain.liquidation_price(short, ZERO, rate)
    assert long_liq == domain.round8(D(90) / D("0.996"))
    assert short_liq == domain.round8(D(110) / D("1.004"))
    assert domain.is_liquidated(long, long_liq, long_liq)
    assert not domain.is_liquidated(short, short_liq, short_liq - 1)


def test_longs_pay_funding_at_a_positive_rate_and_shorts_receive_it() -> None:
    long = _fill(FLAT, Side.BUY, "2", "100").position
    short = _fill(FLAT, Side.SELL, "2", "100").position
    assert domain.funding_payment(long, D(100), D("0.0001")) == D("-0.02")
    assert domain.funding_payment(short, D(100), D("0.0001")) == D("0.02")


def test_the_margin_check_counts_only_the_added_exposure() -> None:
    long = _fill(FLAT, Side.BUY, "1", "100").position
    book = domain.Exposure(D(15), (long,), {"BTCUSDT": D(100)})
    domain.check_margin(book, long, Side.SELL, D(2), D(100))  # closes 1, opens 1: needs 10
    with pytest.raises(BinanceError):
        domain.check_margin(book, long, Side.BUY, D(1), D(100))  # available 5, needs 10

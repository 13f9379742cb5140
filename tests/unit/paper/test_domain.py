"""The matching engine's decisions: fills, fees, filters and balances, with exact decimals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.paper.domain import spot as domain
from services.paper.errors import BinanceError
from services.paper.markets import CATALOGUE, index
from services.paper.models import (
    Balance,
    Fill,
    NewOrder,
    Order,
    OrderStatus,
    OrderType,
    RespType,
    Side,
    TimeInForce,
)

BTC = index(CATALOGUE)["BTCUSDT"]
PRICE = Decimal(60000)
FEES = domain.Fees()
WALLET = {"USDT": Balance("USDT", Decimal(10000)), "BTC": Balance("BTC", Decimal(1))}


def _order(
    side: Side,
    *,
    kind: OrderType = OrderType.MARKET,
    qty: str | None = "0.01",
    price: str | None = None,
    quote: str | None = None,
    tif: TimeInForce = TimeInForce.GTC,
) -> NewOrder:
    return NewOrder(
        symbol="BTCUSDT",
        side=side,
        type=kind,
        client_order_id="c",
        resp_type=RespType.FULL,
        quantity=Decimal(qty) if qty else None,
        quote_qty=Decimal(quote) if quote else None,
        price=Decimal(price) if price else None,
        time_in_force=tif,
    )


def _by_asset(balances: tuple[Balance, ...]) -> dict[str, tuple[Decimal, Decimal]]:
    return {b.asset: (b.free, b.locked) for b in balances}


def _code(exc: pytest.ExceptionInfo[BinanceError]) -> tuple[int, str]:
    return exc.value.code, exc.value.msg


def test_a_market_buy_pays_quote_and_receives_base_minus_the_fee() -> None:
    placed = domain.place(BTC, _order(Side.BUY), PRICE, WALLET, FEES)
    assert placed.status is OrderStatus.FILLED
    assert placed.fill == Fill(
        PRICE, Decimal("0.01"), Decimal(600), Decimal("0.00001"), "BTC", is_maker=False
    )
    assert _by_asset(placed.balances) == {
        "USDT": (Decimal(9400), Decimal(0)),
        "BTC": (Decimal("1.00999"), Decimal(0)),
    }


def test_a_market_sell_pays_its_fee_in_quote() -> None:
    placed = domain.place(BTC, _order(Side.SELL), PRICE, WALLET, FEES)
    assert placed.fill is not None
    assert (placed.fill.commission, placed.fill.commission_asset) == (Decimal("0.6"), "USDT")
    assert _by_asset(placed.balances)["USDT"] == (Decimal("10599.4"), Decimal(0))


def test_a_buy_by_quote_amount_floors_the_quantity_to_the_step() -> None:
    placed = domain.place(BTC, _order(Side.BUY, qty=None, quote="100"), PRICE, WALLET, FEES)
    assert placed.orig_qty == Decimal("0.00166")
    assert placed.fill is not None
    assert placed.fill.quote_qty == Decimal("99.6")


def test_slippage_moves_the_fill_against_the_taker_onto_the_tick() -> None:
    fees = domain.Fees(slippage_bps=Decimal("1.5"))
    buy = domain.place(BTC, _order(Side.BUY), Decimal("60000.01"), WALLET, fees)
    sell = domain.place(BTC, _order(Side.SELL), Decimal("60000.01"), WALLET, fees)
    assert buy.fill is not None
    assert sell.fill is not None
    assert buy.fill.price == Decimal("60009.02")  # 60009.0150015 rounded up
    assert sell.fill.price == Decimal("59991.00")  # 59991.0049985 rounded down


@pytest.mark.parametrize(
    ("order", "reason"),
    [
        (_order(Side.BUY, qty="0.000015"), "Filter failure: LOT_SIZE"),
        (_order(Side.BUY, qty="0"), "Filter failure: LOT_SIZE"),
        (_order(Side.BUY, qty="0.00008"), "Filter failure: NOTIONAL"),
        (_order(Side.BUY, kind=OrderType.LIMIT, price="60000.001"), "Filter failure: PRICE_FILTER"),
        (_order(Side.BUY, kind=OrderType.LIMIT, price="0"), "Filter failure: PRICE_FILTER"),
        (_order(Side.BUY, qty=None, quote="0.1"), "Filter failure: LOT_SIZE"),
    ],
)
def test_an_order_breaking_a_filter_is_refused_with_binances_words(
    order: NewOrder, reason: str
) -> None:
    with pytest.raises(BinanceError) as refused:
        domain.place(BTC, order, PRICE, WALLET, FEES)
    assert _code(refused) == (-1013, reason)


@pytest.mark.parametrize(
    "order",
    [
        _order(Side.BUY, qty="0.2"),
        _order(Side.SELL, qty="1.5"),
        _order(Side.BUY, kind=OrderType.LIMIT, qty="0.3", price="50000"),
        _order(Side.SELL, kind=OrderType.LIMIT, qty="1.00001", price="70000"),
    ],
)
def test_an_order_the_account_cannot_pay_is_insufficient_balance(order: NewOrder) -> None:
    with pytest.raises(BinanceError) as refused:
        domain.place(BTC, order, PRICE, WALLET, FEES)
    assert _code(refused) == (-2010, "Account has insufficient balance for requested action.")


def test_a_limit_buy_below_the_price_rests_with_its_cost_locked() -> None:
    placed = domain.place(
        BTC, _order(Side.BUY, kind=OrderType.LIMIT, price="50000"), PRICE, WALLET, FEES
    )
    assert (placed.status, placed.fill) == (OrderStatus.NEW, None)
    assert _by_asset(placed.balances) == {"USDT": (Decimal(9500), Decimal(500))}


def test_a_limit_order_crossing_the_price_fills_at_the_better_market_price() -> None:
    order = _order(Side.BUY, kind=OrderType.LIMIT, price="61000")
    placed = domain.place(BTC, order, PRICE, WALLET, FEES)
    assert placed.status is OrderStatus.FILLED
    assert placed.fill is not None
    assert (placed.fill.price, placed.fill.is_maker) == (PRICE, False)
    assert placed.price == Decimal(61000)


def test_slippage_never_fills_a_limit_order_beyond_its_price() -> None:
    fees = domain.Fees(slippage_bps=Decimal(100))  # 1 %: 60,600
    placed = domain.place(
        BTC, _order(Side.BUY, kind=OrderType.LIMIT, price="60100"), PRICE, WALLET, fees
    )
    assert placed.fill is not None
    assert placed.fill.price == Decimal(60100)


@pytest.mark.parametrize("tif", [TimeInForce.IOC, TimeInForce.FOK])
def test_a_now_or_never_order_that_cannot_fill_expires_touching_nothing(tif: TimeInForce) -> None:
    order = _order(Side.BUY, kind=OrderType.LIMIT, price="50000", tif=tif)
    placed = domain.place(BTC, order, PRICE, WALLET, FEES)
    assert (placed.status, placed.fill, placed.balances) == (OrderStatus.EXPIRED, None, ())


def _resting(side: Side, qty: Decimal, price: Decimal) -> Order:
    return Order(
        order_id=7,
        account_id=1,
        symbol="BTCUSDT",
        client_order_id="c",
        side=side,
        type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        price=price,
        orig_qty=qty,
        orig_quote_qty=Decimal(0),
        executed_qty=Decimal(0),
        cumm_quote_qty=Decimal(0),
        status=OrderStatus.NEW,
        created_ms=0,
        updated_ms=0,
    )


def _apply(wallet: dict[str, Balance], balances: tuple[Balance, ...]) -> dict[str, Balance]:
    return {**wallet, **{b.asset: b for b in balances}}


prices = st.integers(min_value=1_000_00, max_value=200_000_00).map(lambda c: Decimal(c) / 100)
quantities = st.integers(min_value=100, max_value=10_000).map(lambda s: Decimal(s) / 100_000)


@given(side=st.sampled_from(Side), qty=quantities, price=prices)
def test_a_canceled_resting_order_gives_back_exactly_what_it_locked(
    side: Side, qty: Decimal, price: Decimal
) -> None:
    wallet = {"USDT": Balance("USDT", Decimal(10**9)), "BTC": Balance("BTC", Decimal(10))}
    locked = _apply(wallet, domain.lock(BTC, wallet, side, qty, price))
    released = _apply(locked, domain.release(BTC, locked, _resting(side, qty, price)))
    assert released == wallet


@given(side=st.sampled_from(Side), qty=quantities, price=prices)
def test_a_filled_resting_order_moves_exactly_its_amounts_and_fee(
    side: Side, qty: Decimal, price: Decimal
) -> None:
    wallet = {"USDT": Balance("USDT", Decimal(10**9)), "BTC": Balance("BTC", Decimal(10))}
    locked = _apply(wallet, domain.lock(BTC, wallet, side, qty, price))
    fill, balances = domain.fill_resting(BTC, locked, _resting(side, qty, price), FEES)
    after = _apply(locked, balances)
    sign = 1 if side is Side.BUY else -1
    fee_base = fill.commission if side is Side.BUY else 0
    fee_quote = fill.commission if side is Side.SELL else 0
    assert after["BTC"].free + after["BTC"].locked == Decimal(10) + sign * qty - fee_base
    assert after["USDT"].free + after["USDT"].locked == (
        Decimal(10**9) - sign * qty * price - fee_quote
    )
    assert after["BTC"].locked == after["USDT"].locked == 0
    assert fill.is_maker
    assert fill.price == price

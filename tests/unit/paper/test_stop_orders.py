"""Stop-loss, take-profit, LIMIT_MAKER and OCO decisions of the matching engine."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from services.paper.domain import oco
from services.paper.domain import spot as domain
from services.paper.errors import BinanceError
from services.paper.markets import CATALOGUE, index
from services.paper.models import (
    Balance,
    NewOco,
    NewOrder,
    OcoLeg,
    Order,
    OrderStatus,
    OrderType,
    RespType,
    Side,
    TimeInForce,
)

BTC = index(CATALOGUE)["BTCUSDT"]
LAST = Decimal(60000)
FEES = domain.Fees()
WALLET = {"USDT": Balance("USDT", Decimal(10000)), "BTC": Balance("BTC", Decimal(1))}


def _new(
    side: Side, kind: OrderType, stop: str, price: str | None = None, qty: str = "0.01"
) -> NewOrder:
    return NewOrder(
        symbol="BTCUSDT",
        side=side,
        type=kind,
        client_order_id="c",
        resp_type=RespType.FULL,
        quantity=Decimal(qty),
        price=Decimal(price) if price else None,
        stop_price=Decimal(stop) if stop else None,
    )


def _code(refused: pytest.ExceptionInfo[BinanceError]) -> tuple[int, str]:
    return refused.value.code, refused.value.msg


@pytest.mark.parametrize(
    ("kind", "side", "price", "fires"),
    [
        (OrderType.STOP_LOSS, Side.SELL, "59000", True),
        (OrderType.STOP_LOSS, Side.SELL, "59000.01", False),
        (OrderType.STOP_LOSS, Side.BUY, "61000", True),
        (OrderType.STOP_LOSS_LIMIT, Side.BUY, "60999.99", False),
        (OrderType.TAKE_PROFIT, Side.SELL, "61000", True),
        (OrderType.TAKE_PROFIT_LIMIT, Side.SELL, "60999.99", False),
        (OrderType.TAKE_PROFIT, Side.BUY, "59000", True),
        (OrderType.TAKE_PROFIT, Side.BUY, "59000.01", False),
    ],
)
def test_a_stop_loss_fires_against_the_position_and_a_take_profit_in_its_favour(
    kind: OrderType,
    side: Side,
    price: str,
    fires: bool,  # noqa: FBT001 - a parametrized expectation
) -> None:
    stop = Decimal(59000) if (kind.is_stop_loss == (side is Side.SELL)) else Decimal(61000)
    assert domain.triggered(kind, side, stop, Decimal(price)) is fires


def test_a_sell_stop_below_the_price_waits_with_its_base_locked() -> None:
    placed = domain.place(BTC, _new(Side.SELL, OrderType.STOP_LOSS, "59000"), LAST, WALLET, FEES)
    assert (placed.status, placed.working, placed.fill, placed.price) == (
        OrderStatus.NEW,
        False,
        None,
        Decimal(0),
    )
    assert placed.balances == (Balance("BTC", Decimal("0.99"), Decimal("0.01")),)


def test_a_buy_stop_limit_locks_the_quote_its_limit_price_costs() -> None:
    order = _new(Side.BUY, OrderType.STOP_LOSS_LIMIT, "61000", "61100")
    placed = domain.place(BTC, order, LAST, WALLET, FEES)
    assert placed.balances == (Balance("USDT", Decimal(9389), Decimal(611)),)


@pytest.mark.parametrize(
    "order",
    [
        _new(Side.SELL, OrderType.STOP_LOSS, "60000"),
        _new(Side.SELL, OrderType.STOP_LOSS_LIMIT, "61000", "60900"),
        _new(Side.SELL, OrderType.TAKE_PROFIT, "59000"),
        _new(Side.BUY, OrderType.STOP_LOSS, "59000"),
        _new(Side.BUY, OrderType.TAKE_PROFIT_LIMIT, "61000", "61000"),
    ],
)
def test_a_stop_the_price_has_already_reached_is_refused(order: NewOrder) -> None:
    with pytest.raises(BinanceError) as refused:
        domain.place(BTC, order, LAST, WALLET, FEES)
    assert _code(refused) == (-2010, "Stop price would trigger immediately.")


def test_a_stop_price_off_the_tick_breaks_the_price_filter() -> None:
    with pytest.raises(BinanceError) as refused:
        domain.place(BTC, _new(Side.SELL, OrderType.STOP_LOSS, "59000.001"), LAST, WALLET, FEES)
    assert _code(refused) == (-1013, "Filter failure: PRICE_FILTER")


def test_a_limit_maker_that_would_take_is_refused_and_one_that_would_not_rests() -> None:
    taking = replace(_new(Side.SELL, OrderType.LIMIT_MAKER, "", "59000"), stop_price=None)
    with pytest.raises(BinanceError) as refused:
        domain.place(BTC, taking, LAST, WALLET, FEES)
    assert _code(refused) == (-2010, "Order would immediately match and take.")
    resting = replace(taking, price=Decimal(62000))
    placed = domain.place(BTC, resting, LAST, WALLET, FEES)
    assert (placed.status, placed.working) == (OrderStatus.NEW, True)


def _waiting(new: NewOrder, price: Decimal = Decimal(0)) -> Order:
    return Order(
        order_id=1,
        account_id=1,
        symbol="BTCUSDT",
        client_order_id="c",
        side=new.side,
        type=new.type,
        time_in_force=new.time_in_force,
        price=price,
        orig_qty=new.quantity or Decimal(0),
        orig_quote_qty=Decimal(0),
        executed_qty=Decimal(0),
        cumm_quote_qty=Decimal(0),
        status=OrderStatus.NEW,
        created_ms=0,
        updated_ms=0,
        stop_price=new.stop_price or Decimal(0),
        working=False,
    )


def test_a_triggered_stop_loss_sells_at_the_market_as_a_taker() -> None:
    order = _waiting(_new(Side.SELL, OrderType.STOP_LOSS, "59000"))
    placed = domain.activate(BTC, order, Decimal("58950.5"), WALLET, FEES)
    assert placed.status is OrderStatus.FILLED
    assert placed.fill is not None
    assert (placed.fill.price, placed.fill.is_maker, placed.fill.commission) == (
        Decimal("58950.5"),
        False,
        Decimal("0.58950500"),
    )


def test_a_triggered_stop_limit_rests_at_its_limit_when_the_price_is_beyond_it() -> None:
    new = _new(Side.SELL, OrderType.STOP_LOSS_LIMIT, "59000", "58900")
    placed = domain.activate(BTC, _waiting(new, Decimal(58900)), Decimal(58800), WALLET, FEES)
    assert (placed.status, placed.fill) == (OrderStatus.NEW, None)
    assert placed.balances == (Balance("BTC", Decimal("0.99"), Decimal("0.01")),)


def test_a_triggered_market_buy_the_account_cannot_pay_expires() -> None:
    order = _waiting(_new(Side.BUY, OrderType.STOP_LOSS, "61000", qty="1"))
    placed = domain.activate(BTC, order, Decimal(61000), WALLET, FEES)
    assert (placed.status, placed.balances) == (OrderStatus.EXPIRED, ())


def _oco(
    side: Side = Side.SELL,
    above: OcoLeg | None = None,
    below: OcoLeg | None = None,
) -> NewOco:
    return NewOco(
        symbol="BTCUSDT",
        side=side,
        quantity=Decimal("0.01"),
        list_client_order_id="l",
        above=above or OcoLeg(OrderType.LIMIT_MAKER, "a", price=Decimal(62000)),
        below=below or OcoLeg(OrderType.STOP_LOSS, "b", stop_price=Decimal(59000)),
    )


def test_a_sell_oco_with_its_legs_on_their_sides_locks_at_its_dearest_price() -> None:
    assert oco.check(BTC, _oco(), LAST) == Decimal(62000)


STOP_ABOVE = OcoLeg(OrderType.STOP_LOSS, "a", stop_price=Decimal(61000))
MAKER_BELOW = OcoLeg(OrderType.LIMIT_MAKER, "b", price=Decimal(58000))
TP_BELOW = OcoLeg(OrderType.TAKE_PROFIT, "b", stop_price=Decimal(58000))
TP_ABOVE = OcoLeg(OrderType.TAKE_PROFIT, "a", stop_price=Decimal(61000))


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (_oco(above=STOP_ABOVE), -1197),
        (_oco(above=TP_ABOVE, below=MAKER_BELOW), -1166),
        (_oco(below=TP_BELOW), -1199),
        (_oco(Side.BUY), -1165),
        (_oco(Side.BUY, above=TP_ABOVE, below=MAKER_BELOW), -1198),
        (_oco(Side.BUY, above=STOP_ABOVE), -1196),
        (_oco(below=MAKER_BELOW), -1168),
    ],
)
def test_an_oco_leg_on_the_wrong_side_is_refused_with_binances_code(
    request_: NewOco, code: int
) -> None:
    with pytest.raises(BinanceError) as refused:
        oco.check(BTC, request_, LAST)
    assert refused.value.code == code


@pytest.mark.parametrize(
    "request_",
    [
        _oco(above=OcoLeg(OrderType.LIMIT_MAKER, "a", price=Decimal(60000))),
        _oco(below=OcoLeg(OrderType.STOP_LOSS, "b", stop_price=Decimal(60000))),
        _oco(above=OcoLeg(OrderType.TAKE_PROFIT, "a", stop_price=Decimal(59500))),
        _oco(
            above=OcoLeg(
                OrderType.TAKE_PROFIT_LIMIT,
                "a",
                price=Decimal(59900),
                stop_price=Decimal(61000),
                time_in_force=TimeInForce.GTC,
            )
        ),
    ],
)
def test_an_oco_priced_across_the_market_is_refused(request_: NewOco) -> None:
    with pytest.raises(BinanceError) as refused:
        oco.check(BTC, request_, LAST)
    assert _code(refused) == (
        -2010,
        "The relationship of the prices for the orders is not correct.",
    )


def test_a_buy_oco_stops_above_and_takes_profit_below() -> None:
    assert oco.check(BTC, _oco(Side.BUY, above=STOP_ABOVE, below=MAKER_BELOW), LAST) == Decimal(
        61000
    )

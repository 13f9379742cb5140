"""Take-profit and stop-loss ride on the opening order, or are refused in words."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from libs.common.messages import (
    Action,
    ExitKind,
    OrderType,
    PriceTarget,
    PriceUnit,
    RejectReason,
    Side,
)
from libs.common.records import MarketType
from services.router.domain.exits import EXIT_SUPPORT
from services.router.domain.layers import TenantSettings
from tests.helpers.router import account, futures, instrument, intent, layer
from tests.unit.router.world import World

SPOT = World()
FUTURES = World(accounts={"main": futures()})
OKX = World(accounts={"main": futures(exchange_id="okx")})
PERP = instrument("BINANCE:BTCUSDT.P")
TP = PriceTarget(value=Decimal(2), unit=PriceUnit.PERCENT)
SL = PriceTarget(value=Decimal(1), unit=PriceUnit.PERCENT)
TRAILING = PriceTarget(value=Decimal(1), unit=PriceUnit.PERCENT, kind=ExitKind.TRAILING)


def with_settings(world: World, **fields: object) -> World:
    return world.but(settings=TenantSettings(tenant=layer(**fields)))


def price(value: int) -> PriceTarget:
    return PriceTarget(value=Decimal(value), unit=PriceUnit.PRICE)


def limit_at(value: int, **fields: Any) -> dict[str, Any]:
    return {"order_type": OrderType.LIMIT, "price": Decimal(value), **fields}


def test_a_spot_entry_carries_its_take_profit_and_stop_loss() -> None:
    (order,) = SPOT.placed(intent(take_profit=TP, stop_loss=SL)).orders
    assert (order.side, order.take_profit, order.stop_loss) == (Side.BUY, TP, SL)


def test_a_futures_long_and_a_short_carry_their_exits() -> None:
    (long,) = FUTURES.placed(intent(instrument=PERP, take_profit=TP, stop_loss=SL)).orders
    (short,) = FUTURES.placed(
        intent(instrument=PERP, action=Action.SELL, take_profit=TP, stop_loss=SL)
    ).orders
    assert (long.side, long.take_profit, long.stop_loss) == (Side.BUY, TP, SL)
    assert (short.side, short.reduce_only, short.take_profit, short.stop_loss) == (
        Side.SELL,
        False,
        TP,
        SL,
    )


def test_the_trade_settings_percentages_are_the_default_exits() -> None:
    world = with_settings(FUTURES, take_profit_percent=3, stop_loss_percent="1.5")
    (order,) = world.placed(intent(instrument=PERP, stop_loss=SL)).orders
    assert order.take_profit == PriceTarget(value=Decimal(3), unit=PriceUnit.PERCENT)
    assert order.stop_loss == SL  # the alert's wins


def test_a_reversal_puts_the_exits_on_its_opening_leg_only() -> None:
    short = FUTURES.but(positions={("main", "BTC/USDT:USDT"): Decimal(-1)})
    close, open_ = short.placed(intent(instrument=PERP, take_profit=TP, stop_loss=SL)).orders
    assert (close.reduce_only, close.take_profit, close.stop_loss) == (True, None, None)
    assert (open_.leg, open_.take_profit, open_.stop_loss) == (1, TP, SL)


def test_a_signal_that_only_closes_carries_no_exits_and_is_not_refused() -> None:
    world = FUTURES.but(
        positions={("main", "BTC/USDT:USDT"): Decimal(-1)},
        settings=TenantSettings(tenant=layer(opposite_signal="close_only")),
    )
    (close,) = world.placed(intent(instrument=PERP, take_profit=TP)).orders
    assert (close.reduce_only, close.take_profit) == (True, None)


def test_exits_on_a_spot_sell_are_refused_there_is_no_short_to_protect() -> None:
    rejection = SPOT.rejected(intent(action=Action.SELL, stop_loss=SL))
    assert rejection.reason is RejectReason.INVALID_EXIT
    assert "opens no short position" in rejection.message
    # The settings' defaults are only defaults: a plain spot sell still goes out.
    (sell,) = with_settings(SPOT, stop_loss_percent=1).placed(intent(action=Action.SELL)).orders
    assert (sell.side, sell.stop_loss) == (Side.SELL, None)


def test_exits_on_a_close_are_refused_as_ingress_refuses_them() -> None:
    close = intent(instrument=PERP, action=Action.CLOSE, quantity=None, take_profit=TP)
    rejection = FUTURES.rejected(close)
    assert rejection.reason is RejectReason.INVALID_EXIT
    assert rejection.message.startswith("A close opens no position")


def test_a_trailing_stop_on_spot_is_refused_the_venue_cannot_hold_it() -> None:
    rejection = SPOT.rejected(intent(stop_loss=TRAILING))
    assert rejection.reason is RejectReason.UNSUPPORTED_ORDER
    assert rejection.message.startswith("A trailing stop-loss cannot be placed on binance spot")


def test_a_trailing_stop_on_binance_futures_is_placed() -> None:
    (order,) = FUTURES.placed(intent(instrument=PERP, stop_loss=TRAILING)).orders
    assert order.stop_loss == TRAILING


def test_okx_futures_hold_market_and_limit_exits_but_no_trailing_stop() -> None:
    (order,) = OKX.placed(intent(instrument=PERP, take_profit=TP, stop_loss=SL)).orders
    assert (order.take_profit, order.stop_loss) == (TP, SL)
    assert OKX.rejected(intent(instrument=PERP, stop_loss=TRAILING)).reason is (
        RejectReason.UNSUPPORTED_ORDER
    )


def test_exits_on_a_venue_and_market_without_them_are_refused_naming_where_they_came_from() -> None:
    world = with_settings(World(accounts={"main": account(exchange_id="okx")}), stop_loss_percent=1)
    rejection = world.rejected(intent(take_profit=TP))
    assert rejection.reason is RejectReason.UNSUPPORTED_ORDER
    assert rejection.message == (
        "Take-profit and stop-loss orders cannot be held on okx spot accounts, so the order "
        "was not placed (account 'main'). Remove tp from the alert, and stop_loss_percent from "
        "your trade settings."
    )


def test_the_capability_table_is_data_for_each_venue_and_market() -> None:
    assert ("okx", MarketType.SPOT) not in EXIT_SUPPORT
    assert ExitKind.TRAILING not in EXIT_SUPPORT["binance", MarketType.SPOT].stop_loss
    assert EXIT_SUPPORT["binance", MarketType.FUTURES].stop_loss == frozenset(ExitKind)


def test_a_long_limit_entry_needs_its_take_profit_above_and_its_stop_below() -> None:
    world = FUTURES
    ok = world.placed(intent(instrument=PERP, **limit_at(60_000, take_profit=price(62_000))))
    assert ok.orders[0].take_profit == price(62_000)
    low_tp = world.rejected(intent(instrument=PERP, **limit_at(60_000, take_profit=price(59_000))))
    assert low_tp.reason is RejectReason.INVALID_EXIT
    assert low_tp.message == (
        "The take-profit at 59000 must be above the entry price 60000 for a long; the order "
        "was not placed."
    )
    high_sl = world.rejected(intent(instrument=PERP, **limit_at(60_000, stop_loss=price(60_500))))
    assert "stop-loss at 60500 must be below the entry price 60000" in high_sl.message


def test_a_short_limit_entry_needs_the_reverse() -> None:
    sell: dict[str, Any] = {"instrument": PERP, "action": Action.SELL}
    placed = FUTURES.placed(
        intent(**sell, **limit_at(60_000, take_profit=price(58_000), stop_loss=price(61_000)))
    )
    assert placed.orders[0].side is Side.SELL
    rejection = FUTURES.rejected(intent(**sell, **limit_at(60_000, take_profit=price(61_000))))
    assert "must be below the entry price 60000 for a short" in rejection.message


def test_a_take_profit_under_the_stop_loss_of_a_long_is_refused_even_at_market() -> None:
    rejection = FUTURES.rejected(
        intent(instrument=PERP, take_profit=price(59_000), stop_loss=price(61_000))
    )
    assert rejection.reason is RejectReason.INVALID_EXIT
    assert "take-profit at 59000 must be above the stop-loss at 61000" in rejection.message

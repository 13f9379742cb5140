"""Actions become legs: directions, signals against the position, closes, target positions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from libs.common.messages import (
    Action,
    MarketPosition,
    OrderType,
    RejectReason,
    Side,
    Sizing,
    SizingRule,
)
from services.router.domain.layers import TenantSettings
from tests.helpers.router import futures, instrument, intent, layer
from tests.unit.router.world import World

PERP = instrument("BINANCE:BTCUSDT.P")
SYMBOL = "BTC/USDT:USDT"
FUTURES = World(accounts={"main": futures()})
SPOT = World()
ALL = Sizing(rule=SizingRule.PERCENT_POSITION, value=Decimal(100))


def holding(amount: str) -> World:
    return FUTURES.but(positions={("main", SYMBOL): Decimal(amount)})


def with_settings(world: World, **fields: object) -> World:
    return world.but(settings=TenantSettings(accounts={"main": layer(**fields)}))


def test_a_buy_while_flat_opens_a_long() -> None:
    (order,) = FUTURES.placed(intent(instrument=PERP)).orders
    assert (order.side, order.reduce_only, order.leg) == (Side.BUY, False, 0)
    assert order.sizing == Sizing(rule=SizingRule.BASE, value=Decimal("0.01"))


def test_a_buy_while_short_reverses_with_a_market_close_then_the_open() -> None:
    limit = intent(instrument=PERP, order_type=OrderType.LIMIT, price=Decimal(50_000))
    close, open_ = holding("-0.5").placed(limit).orders
    assert (close.leg, close.side, close.reduce_only, close.sizing) == (0, Side.BUY, True, ALL)
    assert (close.order_type, close.limit_price) == (OrderType.MARKET, None)
    assert (open_.leg, open_.side, open_.reduce_only) == (1, Side.BUY, False)
    assert (open_.order_type, open_.limit_price) == (OrderType.LIMIT, Decimal(50_000))


def test_a_sell_while_long_reverses_too() -> None:
    close, open_ = holding("0.5").placed(intent(instrument=PERP, action=Action.SELL)).orders
    assert (close.side, close.reduce_only, open_.side, open_.reduce_only) == (
        Side.SELL,
        True,
        Side.SELL,
        False,
    )


def test_close_only_closes_the_opposite_position_without_opening() -> None:
    world = with_settings(holding("-0.5"), opposite_signal="close_only")
    (close,) = world.placed(intent(instrument=PERP)).orders
    assert (close.side, close.reduce_only, close.sizing) == (Side.BUY, True, ALL)


def test_ignore_leaves_the_opposite_position_alone() -> None:
    rejection = with_settings(holding("-0.5"), opposite_signal="ignore").rejected(
        intent(instrument=PERP)
    )
    assert rejection.reason is RejectReason.NOTHING_TO_DO
    assert "ignore" in rejection.message


def test_long_only_refuses_a_sell_that_would_open_a_short() -> None:
    rejection = with_settings(FUTURES, directions="long_only").rejected(
        intent(instrument=PERP, action=Action.SELL)
    )
    assert rejection.reason is RejectReason.DIRECTION_NOT_ALLOWED
    assert "long only" in rejection.message


def test_short_only_refuses_a_buy_that_would_open_a_long() -> None:
    rejection = with_settings(FUTURES, directions="short_only").rejected(intent(instrument=PERP))
    assert rejection.reason is RejectReason.DIRECTION_NOT_ALLOWED
    assert "short only" in rejection.message


def test_long_only_turns_a_sell_while_long_into_a_close() -> None:
    world = with_settings(holding("0.5"), directions="long_only")
    (close,) = world.placed(intent(instrument=PERP, action=Action.SELL)).orders
    assert (close.side, close.reduce_only, close.sizing) == (Side.SELL, True, ALL)


def test_a_close_alert_closes_whatever_is_open_at_market() -> None:
    for amount, side in (("0.5", Side.SELL), ("-0.5", Side.BUY), ("0", Side.SELL)):
        close = intent(instrument=PERP, action=Action.CLOSE, quantity=None)
        (order,) = holding(amount).placed(close).orders
        assert order.side is side
        assert order.reduce_only
        assert order.sizing == Sizing(rule=SizingRule.TARGET_POSITION, value=Decimal(0))


def test_a_partial_close_closes_part_of_the_known_position() -> None:
    half = intent(
        instrument=PERP, action=Action.CLOSE, quantity=Decimal(50), quantity_type="percent_position"
    )
    (order,) = holding("-1").placed(half).orders
    assert (order.side, order.reduce_only, order.sizing.value) == (Side.BUY, True, Decimal(50))
    assert FUTURES.rejected(half).reason is RejectReason.NOTHING_TO_DO


@pytest.mark.parametrize(
    ("action", "side"), [(Action.CLOSE_LONG, Side.SELL), (Action.CLOSE_SHORT, Side.BUY)]
)
def test_close_long_and_close_short_are_reduce_only(action: Action, side: Side) -> None:
    (order,) = FUTURES.placed(intent(instrument=PERP, action=action, quantity=None)).orders
    assert (order.side, order.reduce_only, order.sizing) == (side, True, ALL)


def test_closes_get_no_take_profit_stop_loss_or_leverage() -> None:
    world = with_settings(holding("1"), take_profit_percent=2, leverage=5)
    (order,) = world.placed(intent(instrument=PERP, action=Action.CLOSE)).orders
    assert (order.take_profit, order.stop_loss, order.leverage) == (None, None, None)


def test_on_spot_a_sell_sells_what_is_held_without_reduce_only() -> None:
    (order,) = SPOT.placed(intent(action=Action.SELL, quantity=None)).orders
    assert (order.side, order.reduce_only, order.sizing) == (Side.SELL, False, ALL)
    (close,) = SPOT.placed(intent(action=Action.CLOSE, quantity=None)).orders
    assert (close.side, close.sizing) == (Side.SELL, ALL)


def test_on_spot_a_sell_with_a_quantity_sells_that_quantity() -> None:
    (order,) = SPOT.placed(intent(action=Action.SELL)).orders
    assert order.sizing == Sizing(rule=SizingRule.BASE, value=Decimal("0.01"))


def test_on_spot_there_is_no_short_to_close() -> None:
    rejection = SPOT.rejected(intent(action=Action.CLOSE_SHORT))
    assert rejection.reason is RejectReason.NOTHING_TO_DO


def test_direction_rules_do_not_apply_to_spot_sells() -> None:
    world = with_settings(SPOT, directions="short_only")
    assert world.placed(intent(action=Action.SELL)).orders[0].side is Side.SELL


def test_a_position_size_becomes_one_target_position_order() -> None:
    target = intent(instrument=PERP, quantity=None, position_size=Decimal("-0.3"))
    (order,) = holding("0.2").placed(target).orders
    assert order.sizing == Sizing(rule=SizingRule.TARGET_POSITION, value=Decimal("-0.3"))
    assert (order.side, order.reduce_only) == (Side.SELL, False)


def test_market_position_gives_the_sign_and_flat_means_zero() -> None:
    short = intent(
        instrument=PERP,
        market_position=MarketPosition.SHORT,
        quantity=None,
        position_size=Decimal(2),
    )
    assert FUTURES.placed(short).orders[0].sizing.value == Decimal(-2)
    flat = intent(
        instrument=PERP,
        market_position=MarketPosition.FLAT,
        quantity=None,
        position_size=Decimal(2),
    )
    (order,) = holding("1").placed(flat).orders
    assert (order.sizing.value, order.reduce_only, order.side) == (Decimal(0), True, Side.SELL)


def test_market_position_long_without_a_size_is_an_invalid_quantity() -> None:
    rejection = FUTURES.rejected(
        intent(instrument=PERP, market_position=MarketPosition.LONG, quantity=None)
    )
    assert rejection.reason is RejectReason.INVALID_QUANTITY
    assert "position_size" in rejection.message


def test_a_smaller_target_on_the_same_side_only_reduces() -> None:
    (order,) = (
        holding("1")
        .placed(intent(instrument=PERP, quantity=None, position_size=Decimal("0.4")))
        .orders
    )
    assert (order.side, order.reduce_only) == (Side.SELL, True)


def test_a_short_target_means_flat_where_shorts_are_not_allowed() -> None:
    short = intent(instrument=PERP, quantity=None, position_size=Decimal(-1))
    for world in (with_settings(FUTURES, directions="long_only"), SPOT):
        alert_intent = (
            short if world is not SPOT else intent(quantity=None, position_size=Decimal(-1))
        )
        assert world.placed(alert_intent).orders[0].sizing.value == Decimal(0)
    long_ = intent(instrument=PERP, quantity=None, position_size=Decimal(1))
    assert with_settings(FUTURES, directions="short_only").placed(long_).orders[0].sizing.value == 0


def test_a_position_size_next_to_a_quantity_is_tradingviews_view_not_a_target() -> None:
    # TradingView's default strategy message: "order sell @ 0.01 filled … position is -0.3".
    said = intent(instrument=PERP, action=Action.SELL, position_size=Decimal("-0.3"))
    (order,) = FUTURES.placed(said).orders
    assert order.sizing == Sizing(rule=SizingRule.BASE, value=Decimal("0.01"))
    assert (order.expected_position, order.heal_drift) == (Decimal("-0.3"), False)


def test_healing_on_asks_the_executor_to_size_to_tradingviews_position() -> None:
    said = intent(action=Action.BUY, position_size=Decimal("0.3"))
    (order,) = with_settings(SPOT, position_drift="heal").placed(said).orders
    assert (order.expected_position, order.heal_drift) == (Decimal("0.3"), True)
    target = intent(quantity=None, position_size=Decimal("0.3"))  # a target needs no healing
    (order,) = with_settings(SPOT, position_drift="heal").placed(target).orders
    assert (order.expected_position, order.heal_drift) == (Decimal("0.3"), False)


def test_a_short_tradingview_position_on_spot_is_expected_as_none() -> None:
    said = intent(action=Action.SELL, position_size=Decimal("-0.3"))
    assert SPOT.placed(said).orders[0].expected_position == 0


def test_an_alert_without_a_position_carries_no_expectation() -> None:
    assert SPOT.placed(intent()).orders[0].expected_position is None

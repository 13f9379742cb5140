"""Sizes, caps, trading windows, open positions, the daily order quota, and order details."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from libs.common.messages import (
    Action,
    MarginMode,
    OrderType,
    QuantityType,
    RejectReason,
    Sizing,
    SizingRule,
)
from services.router.domain.decisions import QuotaState
from services.router.domain.layers import TenantSettings
from tests import factories
from tests.helpers.router import NOON, futures, instrument, intent, layer
from tests.unit.router.world import World

PERP = instrument("BINANCE:BTCUSDT.P")
WORLD = World()
FUTURES = World(accounts={"main": futures()})


def tenant_wide(world: World = WORLD, **fields: object) -> World:
    return world.but(settings=TenantSettings(tenant=layer(**fields)))


def test_an_alert_without_quantity_uses_the_default_quantity_and_type() -> None:
    world = tenant_wide(quantity=25, quantity_type="quote")
    (order,) = world.placed(intent(quantity=None, quantity_type=None)).orders
    assert order.sizing == Sizing(rule=SizingRule.QUOTE, value=Decimal(25))


def test_an_alert_quantity_without_type_takes_the_configured_type() -> None:
    world = tenant_wide(quantity_type="percent_equity")
    (order,) = world.placed(intent(quantity=Decimal(5), quantity_type=None)).orders
    assert order.sizing == Sizing(rule=SizingRule.PERCENT_EQUITY, value=Decimal(5))


def test_no_quantity_anywhere_is_an_invalid_quantity() -> None:
    rejection = WORLD.rejected(intent(quantity=None))
    assert rejection.reason is RejectReason.INVALID_QUANTITY
    assert "default quantity" in rejection.message


def test_a_percentage_above_100_is_an_invalid_quantity() -> None:
    alert = intent(quantity=Decimal(150), quantity_type=QuantityType.PERCENT_EQUITY)
    rejection = WORLD.rejected(alert)
    assert rejection.reason is RejectReason.INVALID_QUANTITY
    assert "150 %" in rejection.message


def test_an_order_above_the_base_cap_is_refused() -> None:
    rejection = tenant_wide(max_order_base="0.005").rejected(intent())
    assert rejection.reason is RejectReason.MAX_ORDER_SIZE
    assert "0.01 BTC" in rejection.message
    assert "0.005 BTC" in rejection.message


def test_an_order_above_the_quote_cap_is_refused() -> None:
    alert = intent(quantity=Decimal(500), quantity_type=QuantityType.QUOTE)
    assert tenant_wide(max_order_quote=100).rejected(alert).reason is RejectReason.MAX_ORDER_SIZE
    assert tenant_wide(max_order_quote=500).placed(alert)


def test_a_limit_price_lets_the_other_cap_be_checked() -> None:
    price = Decimal(50_000)
    base = intent(quantity=Decimal("0.01"), order_type=OrderType.LIMIT, price=price)  # 500 USDT
    assert tenant_wide(max_order_quote=400).rejected(base).reason is RejectReason.MAX_ORDER_SIZE
    quote = intent(
        quantity=Decimal(1000),
        quantity_type=QuantityType.QUOTE,
        order_type=OrderType.LIMIT,
        price=price,
    )  # 0.02 BTC
    assert tenant_wide(max_order_base="0.01").rejected(quote).reason is RejectReason.MAX_ORDER_SIZE


def test_percentage_sizes_carry_the_caps_for_the_executor_to_enforce() -> None:
    alert = intent(quantity=Decimal(50), quantity_type=QuantityType.PERCENT_EQUITY)
    (order,) = tenant_wide(max_order_base="0.001", max_order_quote=1).placed(alert).orders
    assert (order.max_base, order.max_quote) == (Decimal("0.001"), Decimal(1))


def test_closing_orders_carry_no_size_cap() -> None:
    world = tenant_wide(FUTURES, max_order_base="0.5", max_order_quote=10)
    held = world.but(positions={("main", "BTC/USDT:USDT"): Decimal(2)})
    (close,) = held.placed(intent(instrument=PERP, action=Action.CLOSE, quantity=None)).orders
    assert (close.max_base, close.max_quote) == (None, None)


def test_a_target_position_above_the_base_cap_is_refused_but_a_close_is_not() -> None:
    world = tenant_wide(FUTURES, max_order_base="0.5")
    target = intent(instrument=PERP, quantity=None, position_size=Decimal(-2))
    rejection = world.rejected(target)
    assert rejection.reason is RejectReason.MAX_ORDER_SIZE
    held = world.but(positions={("main", "BTC/USDT:USDT"): Decimal(2)})
    assert held.placed(intent(instrument=PERP, action=Action.CLOSE, quantity=None))


def test_an_opening_order_outside_the_trading_windows_is_refused() -> None:
    windows = [{"days": ["mon", "tue"], "start": "08:00", "end": "20:00"}]
    rejection = tenant_wide(trading_windows=windows).rejected(intent())  # a Wednesday
    assert rejection.reason is RejectReason.OUTSIDE_TRADING_WINDOW
    assert "Wed 12:00 UTC" in rejection.message
    assert "mon,tue 08:00-20:00 UTC" in rejection.message


def test_an_opening_order_inside_a_window_is_placed() -> None:
    windows = [{"days": ["wed"], "start": "11:00", "end": "13:00"}]
    assert tenant_wide(trading_windows=windows).placed(intent())


def test_closing_orders_pass_outside_the_trading_windows() -> None:
    windows = [{"days": ["mon"], "start": "08:00", "end": "09:00"}]
    world = tenant_wide(FUTURES, trading_windows=windows)
    assert world.placed(intent(instrument=PERP, action=Action.CLOSE, quantity=None))


def test_a_new_position_beyond_the_maximum_is_refused() -> None:
    held = {("main", "ETH/USDT:USDT"): Decimal(1), ("main", "SOL/USDT:USDT"): Decimal(-3)}
    world = tenant_wide(FUTURES, max_open_positions=2).but(positions=held)
    rejection = world.rejected(intent(instrument=PERP))
    assert rejection.reason is RejectReason.MAX_OPEN_POSITIONS
    assert "2 open position(s)" in rejection.message


def test_adding_to_or_reversing_a_held_position_is_not_a_new_position() -> None:
    held = {("main", "ETH/USDT:USDT"): Decimal(1), ("main", "BTC/USDT:USDT"): Decimal(-1)}
    world = tenant_wide(FUTURES, max_open_positions=2).but(positions=held)
    assert len(world.placed(intent(instrument=PERP)).orders) == 2


def test_orders_beyond_the_plans_daily_quota_are_refused() -> None:
    world = WORLD.but(quota=QuotaState(orders_today=20))  # free plan: 20 a day
    rejection = world.rejected(intent())
    assert rejection.reason is RejectReason.QUOTA_EXCEEDED
    assert "your plan's limit of 20 orders per day" in rejection.message


def test_a_lower_daily_limit_of_the_traders_own_applies() -> None:
    world = tenant_wide(max_orders_per_day=5).but(quota=QuotaState(orders_today=5))
    rejection = world.rejected(intent())
    assert "your trade settings' limit of 5" in rejection.message


def test_a_reversal_needs_room_for_both_of_its_orders() -> None:
    held = {("main", "BTC/USDT:USDT"): Decimal(-1)}
    world = FUTURES.but(positions=held, quota=QuotaState(orders_today=19))
    assert world.rejected(intent(instrument=PERP)).reason is RejectReason.QUOTA_EXCEEDED
    placement = world.but(quota=QuotaState(orders_today=18)).placed(intent(instrument=PERP))
    assert len(placement.orders) == 2
    assert placement.limits.orders_per_day == 20


def test_an_unlimited_plan_places_whatever_the_count() -> None:
    unlimited = factories.tenant_record(
        "tenant-a", limits=factories.plan_limits(max_orders_per_day=None, max_alerts_per_hour=None)
    )
    world = WORLD.but(tenant=unlimited, quota=QuotaState(10**6, 10**6))
    assert world.placed(intent()).limits.orders_per_day is None


def test_futures_opening_orders_carry_the_default_leverage_and_margin_mode() -> None:
    world = tenant_wide(FUTURES, leverage=5, margin_mode="isolated")
    (order,) = world.placed(intent(instrument=PERP)).orders
    assert (order.leverage, order.margin_mode) == (Decimal(5), MarginMode.ISOLATED)
    assert (order.take_profit, order.stop_loss) == (None, None)


def test_the_alerts_own_leverage_wins() -> None:
    world = tenant_wide(FUTURES, leverage=5)
    (order,) = world.placed(intent(instrument=PERP, leverage=Decimal(2))).orders
    assert order.leverage == Decimal(2)


def test_the_settings_futures_leverage_never_reaches_a_spot_order() -> None:
    (order,) = tenant_wide(leverage=5, margin_mode="cross").placed(intent()).orders
    assert (order.leverage, order.margin_mode) == (None, None)


def test_a_market_order_carries_no_limit_price() -> None:
    (order,) = WORLD.placed(intent(price=Decimal(1))).orders
    assert (order.order_type, order.limit_price) == (OrderType.MARKET, None)


def test_windows_are_checked_at_decision_time() -> None:
    windows = [{"days": ["wed"], "start": "11:00", "end": "13:00"}]
    late = tenant_wide(trading_windows=windows).but(now=NOON + timedelta(hours=2))
    sent_late = intent(received_at=late.now)
    assert late.rejected(sent_late).reason is RejectReason.OUTSIDE_TRADING_WINDOW

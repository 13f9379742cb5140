"""Leverage stays within the plan's cap and the trader's own; spot is never leveraged."""

from __future__ import annotations

from decimal import Decimal

from libs.common.messages import Action, MarginMode, RejectReason
from services.router.domain.layers import TenantSettings
from tests import factories
from tests.helpers.router import futures, instrument, intent, layer
from tests.unit.router.world import World

PERP = instrument("BINANCE:BTCUSDT.P")
SYMBOL = "BTC/USDT:USDT"


def plan(max_leverage: int | None, name: str = "free") -> World:
    limits = factories.plan_limits(max_alerts_per_hour=None, max_leverage=max_leverage)
    return World(
        tenant=factories.tenant_record("tenant-a", plan=name, limits=limits),
        accounts={"main": futures()},
    )


FUTURES = plan(None)


def test_a_futures_entry_carries_the_alerts_leverage_and_the_settings_margin_mode() -> None:
    world = FUTURES.but(settings=TenantSettings(tenant=layer(leverage=3, margin_mode="isolated")))
    (order,) = world.placed(intent(instrument=PERP, leverage=Decimal(5))).orders
    assert (order.leverage, order.margin_mode) == (Decimal(5), MarginMode.ISOLATED)
    (default,) = world.placed(intent(instrument=PERP)).orders
    assert default.leverage == Decimal(3)


def test_leverage_above_the_plans_cap_is_refused_naming_the_plan() -> None:
    rejection = plan(5).rejected(intent(instrument=PERP, leverage=Decimal(20)))
    assert rejection.reason is RejectReason.LEVERAGE_NOT_ALLOWED
    assert rejection.message == (
        "Leverage 20x (asked in the alert) is above the cap of 5x set by your plan (free); the "
        "order was not placed. Use 5x or less, or upgrade your plan."
    )
    (order,) = plan(5).placed(intent(instrument=PERP, leverage=Decimal(5))).orders
    assert order.leverage == Decimal(5)


def test_the_trader_s_own_cap_wins_when_lower_and_says_which_layer_set_it() -> None:
    settings = TenantSettings(
        tenant=layer(max_leverage=50), symbols={("main", "BTCUSDT"): layer(max_leverage=10)}
    )
    rejection = (
        plan(20).but(settings=settings).rejected(intent(instrument=PERP, leverage=Decimal(15)))
    )
    assert rejection.reason is RejectReason.LEVERAGE_NOT_ALLOWED
    assert rejection.message == (
        "Leverage 15x (asked in the alert) is above the cap of 10x set by max_leverage in your "
        "trade settings for this symbol; the order was not placed. Use 10x or less, or raise "
        "max_leverage."
    )


def test_the_plans_cap_wins_when_lower_than_the_trader_s() -> None:
    world = plan(5).but(settings=TenantSettings(tenant=layer(max_leverage=50)))
    rejection = world.rejected(intent(instrument=PERP, leverage=Decimal(10)))
    assert "set by your plan (free)" in rejection.message


def test_the_settings_leverage_is_checked_too() -> None:
    world = plan(5).but(settings=TenantSettings(accounts={"main": layer(leverage=10)}))
    rejection = world.rejected(intent(instrument=PERP))
    assert rejection.reason is RejectReason.LEVERAGE_NOT_ALLOWED
    assert "Leverage 10x (from your trade settings (leverage))" in rejection.message


def test_an_entry_asking_no_leverage_under_a_cap_carries_the_cap_as_a_ceiling() -> None:
    (order,) = plan(5).placed(intent(instrument=PERP)).orders
    assert (order.leverage, order.max_leverage) == (None, Decimal(5))  # lowered, never raised
    (uncapped,) = FUTURES.placed(intent(instrument=PERP)).orders
    assert (uncapped.leverage, uncapped.max_leverage) == (None, None)  # the exchange's own
    (asked,) = plan(5).placed(intent(instrument=PERP, leverage=Decimal(3))).orders
    assert (asked.leverage, asked.max_leverage) == (Decimal(3), None)


def test_a_close_is_never_stopped_by_a_cap_and_carries_no_leverage() -> None:
    held = plan(5).but(positions={("main", SYMBOL): Decimal(1)})
    close_at_50x = intent(instrument=PERP, action=Action.CLOSE, leverage=Decimal(50))
    (close,) = held.placed(close_at_50x).orders
    assert (close.reduce_only, close.leverage, close.margin_mode) == (True, None, None)


def test_leverage_on_a_spot_account_is_refused_in_words() -> None:
    rejection = World().rejected(intent(leverage=Decimal(5)))
    assert rejection.reason is RejectReason.UNSUPPORTED_ORDER
    assert rejection.message == (
        "Leverage 5x needs a futures account, and account 'main' trades spot; the order was "
        "not placed. Remove leverage from the alert (or send 1)."
    )


def test_leverage_1x_on_spot_is_what_spot_does_and_is_placed_unlevered() -> None:
    (order,) = World().placed(intent(leverage=Decimal(1))).orders
    assert order.leverage is None


def test_the_settings_leverage_and_margin_mode_never_reach_a_spot_order() -> None:
    world = World(settings=TenantSettings(tenant=layer(leverage=10, margin_mode="cross")))
    (order,) = world.placed(intent()).orders
    assert (order.leverage, order.margin_mode) == (None, None)

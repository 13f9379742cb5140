"""Orders Sparky cannot place as asked are refused in words, never placed without the part."""

from __future__ import annotations

from decimal import Decimal

from libs.common.messages import Action, PriceTarget, PriceUnit, RejectReason, Side
from services.router.domain import TenantSettings
from services.router.trade_settings import Scope
from tests.helpers.router import futures, instrument, intent, layer
from tests.unit.router.world import World

SPOT = World()
FUTURES = World(accounts={"main": futures()})
PERP = instrument("BINANCE:BTCUSDT.P")
TP = PriceTarget(value=Decimal(2), unit=PriceUnit.PERCENT)
SL = PriceTarget(value=Decimal(1), unit=PriceUnit.PERCENT)


def with_settings(world: World, **fields: object) -> World:
    return world.but(settings=TenantSettings(tenant=layer(**fields)))


def test_an_entry_with_take_profit_and_stop_loss_is_refused_not_placed_unprotected() -> None:
    rejection = SPOT.rejected(intent(take_profit=TP, stop_loss=SL))
    assert rejection.reason is RejectReason.UNSUPPORTED_ORDER
    assert rejection.message == (
        "Take-profit and stop-loss orders are not supported yet; the order was not placed. "
        "Remove tp and sl from the alert."
    )


def test_a_stop_loss_alone_is_refused_too() -> None:
    rejection = SPOT.rejected(intent(stop_loss=SL))
    assert rejection.reason is RejectReason.UNSUPPORTED_ORDER
    assert rejection.message.endswith("Remove sl from the alert.")


def test_default_exits_from_the_trade_settings_refuse_entries_and_say_where_they_are() -> None:
    world = with_settings(SPOT, take_profit_percent=3, stop_loss_percent="1.5")
    rejection = world.rejected(intent())
    assert rejection.reason is RejectReason.UNSUPPORTED_ORDER
    assert rejection.message.endswith(
        "Remove take_profit_percent and stop_loss_percent from your trade settings."
    )


def test_exits_in_both_places_name_both() -> None:
    rejection = with_settings(SPOT, take_profit_percent=3).rejected(intent(take_profit=TP))
    assert rejection.message.endswith(
        "Remove tp from the alert, and take_profit_percent from your trade settings."
    )


def test_a_reversal_with_exits_is_refused_whole_so_no_close_goes_out_alone() -> None:
    short = FUTURES.but(positions={("main", "BTC/USDT:USDT"): Decimal(-1)})
    assert short.placed(intent(instrument=PERP)).orders  # two legs without exits
    rejection = short.rejected(intent(instrument=PERP, take_profit=TP))
    assert rejection.reason is RejectReason.UNSUPPORTED_ORDER


def test_closing_orders_are_never_stopped_by_exits_they_would_not_carry() -> None:
    world = with_settings(SPOT, take_profit_percent=3)
    (order,) = world.placed(intent(action=Action.SELL, take_profit=TP)).orders
    assert (order.side, order.take_profit, order.stop_loss) == (Side.SELL, None, None)


def test_leverage_on_a_spot_account_is_refused_in_words() -> None:
    rejection = SPOT.rejected(intent(leverage=Decimal(5)))
    assert rejection.reason is RejectReason.UNSUPPORTED_ORDER
    assert rejection.message == (
        "Leverage 5x needs a futures account, and account 'main' trades spot; the order was "
        "not placed. Remove leverage from the alert (or send 1)."
    )


def test_leverage_1x_on_spot_is_what_spot_does_and_is_placed_unlevered() -> None:
    (order,) = SPOT.placed(intent(leverage=Decimal(1))).orders
    assert order.leverage is None


def test_the_api_refuses_exits_in_settings_but_stored_ones_stay_readable() -> None:
    stored = layer(take_profit_percent=2, stop_loss_percent=1, quantity=1)  # loads as before
    errors = stored.unsupported_errors()
    assert [e.split(" ", 1)[0] for e in errors] == ["take_profit_percent", "stop_loss_percent"]
    assert all("not supported yet" in e for e in errors)
    assert layer(quantity=1).unsupported_errors() == []
    assert stored.scope_errors(Scope.TENANT) == []

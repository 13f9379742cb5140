"""Futures accounts: which account a perpetual goes to, long, short, close, reverse, target
positions for shorts, and add."""

from __future__ import annotations

from decimal import Decimal

from libs.common.messages import Action, MarketPosition, RejectReason, Side, Sizing, SizingRule
from services.router.domain.layers import TenantSettings
from tests import factories
from tests.helpers.router import account, futures, instrument, intent, layer
from tests.unit.router.world import World

PERP = instrument("BINANCE:BTCUSDT.P")
SYMBOL = "BTC/USDT:USDT"
TENANT = factories.tenant_record(
    "tenant-a",
    limits=factories.plan_limits(max_alerts_per_hour=None, max_exchange_accounts=None),
)
BOTH = World(tenant=TENANT, accounts={"spot": account(label="spot"), "perp": futures(label="perp")})
FUTURES = World(accounts={"main": futures()})
ALL = Sizing(rule=SizingRule.PERCENT_POSITION, value=Decimal(100))


def holding(amount: str, world: World = FUTURES) -> World:
    return world.but(positions={("main", SYMBOL): Decimal(amount)})


def test_a_perpetual_buy_on_a_futures_account_trades_the_linear_perpetual() -> None:
    (order,) = FUTURES.placed(intent(instrument=PERP)).orders
    assert (order.symbol, order.side, order.reduce_only) == (SYMBOL, Side.BUY, False)


def test_a_perpetual_on_a_spot_account_is_refused_in_words() -> None:
    rejection = World().rejected(intent(instrument=PERP))
    assert rejection.reason is RejectReason.UNKNOWN_SYMBOL
    assert "is a futures contract, but this account trades spot" in rejection.message


def test_an_alert_naming_no_account_goes_to_the_only_account_of_its_market_type() -> None:
    (perp,) = BOTH.placed(intent(account=None, instrument=PERP)).orders
    (spot,) = BOTH.placed(intent(account=None)).orders
    assert (perp.account_label, perp.symbol) == ("perp", SYMBOL)
    assert (spot.account_label, spot.symbol) == ("spot", "BTC/USDT")


def test_two_accounts_of_the_tickers_market_type_still_need_a_name_or_a_default() -> None:
    two = BOTH.but(accounts={**BOTH.accounts, "perp2": futures(label="perp2")})
    rejection = two.rejected(intent(account=None, instrument=PERP))
    assert rejection.reason is RejectReason.UNKNOWN_ACCOUNT
    assert "names no account and you have 3" in rejection.message
    defaulted = two.but(settings=TenantSettings(tenant=layer(default_account="perp2")))
    assert defaulted.placed(intent(account=None, instrument=PERP)).orders[0].account_label == (
        "perp2"
    )


def test_a_sell_while_flat_opens_a_short() -> None:
    (order,) = FUTURES.placed(intent(instrument=PERP, action=Action.SELL)).orders
    assert (order.side, order.reduce_only, order.sizing.value) == (
        Side.SELL,
        False,
        Decimal("0.01"),
    )


def test_close_long_and_close_short_close_the_held_position_reduce_only() -> None:
    (sell,) = holding("1").placed(intent(instrument=PERP, action=Action.CLOSE_LONG)).orders
    (buy,) = holding("-1").placed(intent(instrument=PERP, action=Action.CLOSE_SHORT)).orders
    assert (sell.side, sell.reduce_only, buy.side, buy.reduce_only) == (
        Side.SELL,
        True,
        Side.BUY,
        True,
    )


def test_a_reverse_long_to_short_closes_first_then_opens_as_leg_1() -> None:
    close, open_ = holding("0.5").placed(intent(instrument=PERP, action=Action.SELL)).orders
    assert (close.leg, close.side, close.reduce_only, close.sizing) == (0, Side.SELL, True, ALL)
    assert (open_.leg, open_.side, open_.reduce_only) == (1, Side.SELL, False)
    assert open_.sizing == Sizing(rule=SizingRule.BASE, value=Decimal("0.01"))


def test_a_target_short_from_flat_opens_the_short() -> None:
    short = intent(
        instrument=PERP, quantity=None, market_position=MarketPosition.SHORT, position_size=2
    )
    (order,) = FUTURES.placed(short).orders
    assert order.sizing == Sizing(rule=SizingRule.TARGET_POSITION, value=Decimal(-2))
    assert (order.side, order.reduce_only) == (Side.SELL, False)


def test_a_target_short_from_long_is_one_order_the_executor_sizes_through_zero() -> None:
    short = intent(
        instrument=PERP, quantity=None, market_position=MarketPosition.SHORT, position_size=1
    )
    (order,) = holding("2").placed(short).orders
    assert (order.side, order.reduce_only, order.sizing.value) == (Side.SELL, False, Decimal(-1))


def test_a_smaller_short_target_only_reduces_the_short() -> None:
    short = intent(
        instrument=PERP, quantity=None, market_position=MarketPosition.SHORT, position_size=1
    )
    (order,) = holding("-3").placed(short).orders
    assert (order.side, order.reduce_only, order.sizing.value) == (Side.BUY, True, Decimal(-1))


def test_add_while_long_buys_more() -> None:
    (order,) = holding("1").placed(intent(instrument=PERP, action=Action.ADD)).orders
    assert (order.side, order.reduce_only, order.sizing.value) == (
        Side.BUY,
        False,
        Decimal("0.01"),
    )


def test_add_while_short_sells_more() -> None:
    (order,) = holding("-1").placed(intent(instrument=PERP, action=Action.ADD)).orders
    assert (order.side, order.reduce_only) == (Side.SELL, False)


def test_add_while_flat_has_nothing_to_add_to() -> None:
    rejection = FUTURES.rejected(intent(instrument=PERP, action=Action.ADD))
    assert rejection.reason is RejectReason.NOTHING_TO_DO
    assert "add needs an open position; send buy or sell to open one" in rejection.message


def test_add_on_spot_buys_more_of_what_is_held() -> None:
    spot = World(positions={("main", "BTC/USDT"): Decimal(1)})
    (order,) = spot.placed(intent(action=Action.ADD)).orders
    assert (order.side, order.reduce_only) == (Side.BUY, False)
    assert World().rejected(intent(action=Action.ADD)).reason is RejectReason.NOTHING_TO_DO


def test_add_is_an_opening_order_held_to_the_opening_rules() -> None:
    settings = TenantSettings(tenant=layer(directions="long_only", max_order_base="0.001"))
    short = holding("-1").but(settings=settings)
    refused = short.rejected(intent(instrument=PERP, action=Action.ADD))
    assert refused.reason is RejectReason.DIRECTION_NOT_ALLOWED
    long = holding("1").but(settings=settings)
    too_big = long.rejected(intent(instrument=PERP, action=Action.ADD))
    assert too_big.reason is RejectReason.MAX_ORDER_SIZE

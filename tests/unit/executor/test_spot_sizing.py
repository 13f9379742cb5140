"""Sizing at execution: every rule against live balance, price and position."""

from __future__ import annotations

import dataclasses
from decimal import ROUND_DOWN, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.common.messages import OrderType, Side, SizingRule
from services.executor.domain import MarketRules
from services.executor.orders.sizing import SizingRejectedError, SizingRequest
from services.executor.orders.spot_sizing import LiveData, needs_balance, needs_ticker, size_order

BTC = MarketRules(
    symbol="BTC/USDT", base="BTC", quote="USDT", min_amount=Decimal("0.00001"), min_cost=Decimal(5)
)


class Steps:
    """Binance-like precision: amounts in steps of 0.00001, prices in ticks of 0.01."""

    def amount(self, value: Decimal) -> Decimal:
        return value.quantize(Decimal("0.00001"), rounding=ROUND_DOWN)

    def price(self, value: Decimal) -> Decimal:
        return value.quantize(Decimal("0.01"), rounding=ROUND_DOWN)


def request(rule: SizingRule, value: str, side: Side = Side.BUY, **kw: object) -> SizingRequest:
    fields: dict[str, object] = {"order_type": OrderType.MARKET} | kw
    return SizingRequest(rule=rule, value=Decimal(value), side=side, **fields)  # type: ignore[arg-type]


def live(
    price: str = "60000",
    base: str = "0",
    quote: str = "0",
    *,
    strategy: str | None = None,
    free: str | None = None,
) -> LiveData:
    """The wallet holds ``base`` coins (``free`` of them not locked: all by default), of which
    the strategy bought ``strategy`` (all of them by default).
    """
    return LiveData(
        price=Decimal(price),
        base_free=Decimal(base if free is None else free),
        base_total=Decimal(base),
        quote_total=Decimal(quote),
        position=Decimal(base if strategy is None else strategy),
    )


def size(req: SizingRequest, data: LiveData) -> tuple[Side, Decimal]:
    sized = size_order(req, data, BTC, Steps())
    return sized.side, sized.amount


def test_a_base_amount_is_used_as_is_after_rounding_down_to_the_lot_step() -> None:
    assert size(request(SizingRule.BASE, "0.0012345"), live()) == (Side.BUY, Decimal("0.00123"))


def test_a_quote_amount_buys_what_it_pays_for_at_the_market_price() -> None:
    assert size(request(SizingRule.QUOTE, "120"), live()) == (Side.BUY, Decimal("0.002"))


def test_a_percent_of_equity_values_both_currencies_of_the_symbol() -> None:
    # equity = 3000 USDT + 0.05 BTC * 60000 = 6000 USDT; 10 % = 600 USDT = 0.01 BTC
    data = live(base="0.05", quote="3000")
    assert size(request(SizingRule.PERCENT_EQUITY, "10"), data) == (Side.BUY, Decimal("0.01"))


def test_a_percent_of_position_sizes_from_the_strategys_coins_not_the_wallet() -> None:
    req = request(SizingRule.PERCENT_POSITION, "50", Side.SELL)
    assert size(req, live(base="0.3")) == (Side.SELL, Decimal("0.15"))
    assert size(req, live(base="2.3", strategy="0.3")) == (Side.SELL, Decimal("0.15"))


def test_a_percent_of_no_position_is_rejected_in_words() -> None:
    with pytest.raises(SizingRejectedError, match="This strategy holds no BTC") as refused:
        size(request(SizingRule.PERCENT_POSITION, "50", Side.SELL), live())
    assert refused.value.code == "nothing_to_close"


@pytest.mark.parametrize(
    ("target", "held", "expected"),
    [
        ("0.5", "0.2", (Side.BUY, Decimal("0.3"))),
        ("0.1", "0.4", (Side.SELL, Decimal("0.3"))),
        ("0", "0.4", (Side.SELL, Decimal("0.4"))),
        ("-1", "0.4", (Side.SELL, Decimal("0.4"))),  # spot cannot be short: flat
    ],
)
def test_a_target_position_trades_the_difference_in_the_right_direction(
    target: str, held: str, expected: tuple[Side, Decimal]
) -> None:
    assert size(request(SizingRule.TARGET_POSITION, target), live(base=held)) == expected


def test_already_at_the_target_position_needs_no_order() -> None:
    with pytest.raises(SizingRejectedError, match="already at the target") as refused:
        size(request(SizingRule.TARGET_POSITION, "0.4"), live(base="0.4"))
    assert refused.value.code == "nothing_to_do"


def test_a_reduce_only_sell_is_capped_at_the_position_held() -> None:
    req = request(SizingRule.BASE, "1", Side.SELL, reduce_only=True)
    assert size(req, live(base="0.25")) == (Side.SELL, Decimal("0.25"))


@pytest.mark.parametrize(("side", "held"), [(Side.SELL, "0"), (Side.BUY, "0.5")])
def test_reduce_only_with_nothing_to_close_is_rejected_not_an_error(side: Side, held: str) -> None:
    with pytest.raises(SizingRejectedError, match="holds no BTC on this account") as refused:
        size(request(SizingRule.BASE, "0.1", side, reduce_only=True), live(base=held))
    assert refused.value.code == "nothing_to_close"


def test_an_order_worth_less_than_the_minimum_notional_is_rejected_with_both_values() -> None:
    with pytest.raises(SizingRejectedError) as refused:
        size(request(SizingRule.QUOTE, "4"), live())
    assert refused.value.code == "below_min_notional"
    assert "below the exchange's minimum of 5 USDT for BTC/USDT" in refused.value.reason


def test_an_amount_that_rounds_to_nothing_is_rejected_as_below_the_minimum() -> None:
    with pytest.raises(SizingRejectedError, match=r"0\.000001 BTC is below") as refused:
        size(request(SizingRule.BASE, "0.000001"), live())
    assert refused.value.code == "below_min_amount"


def test_a_limit_order_is_sized_and_priced_at_its_rounded_limit_price() -> None:
    req = request(
        SizingRule.QUOTE, "100", order_type=OrderType.LIMIT, limit_price=Decimal("50000.019")
    )
    sized = size_order(req, LiveData(), BTC, Steps())
    assert sized.price == Decimal("50000.01")
    assert sized.amount == Decimal("0.00199")


def test_a_quote_order_without_a_price_is_rejected() -> None:
    with pytest.raises(SizingRejectedError, match="no price") as refused:
        size_order(request(SizingRule.QUOTE, "100"), LiveData(), BTC, Steps())
    assert refused.value.code == "no_price"


def test_what_each_rule_needs_from_the_exchange() -> None:
    assert not needs_balance(request(SizingRule.BASE, "1"))
    assert needs_balance(request(SizingRule.BASE, "1", Side.SELL))  # never more than held
    assert needs_balance(request(SizingRule.BASE, "1", reduce_only=True))
    assert needs_balance(request(SizingRule.TARGET_POSITION, "1"))
    assert needs_ticker(request(SizingRule.BASE, "1"))
    limit = request(SizingRule.BASE, "1", order_type=OrderType.LIMIT, limit_price=Decimal(1))
    assert not needs_ticker(limit)


@given(
    held=st.decimals(min_value=0, max_value=1000, places=8),
    wanted=st.decimals(min_value="0.001", max_value=1000, places=8),
)
def test_a_reduce_only_sell_never_exceeds_the_position(held: Decimal, wanted: Decimal) -> None:
    req = request(SizingRule.BASE, str(wanted), Side.SELL, reduce_only=True)
    try:
        side, amount = size(req, live(price="60000", base=str(held)))
    except SizingRejectedError:
        return
    assert side is Side.SELL
    assert 0 < amount <= held


def test_a_percent_of_equity_order_above_the_tenants_value_cap_is_refused() -> None:
    # equity 10,000 USDT; 50 % = 5,000 USDT, above the 1,000 USDT cap
    capped = request(SizingRule.PERCENT_EQUITY, "50", max_quote=Decimal(1000))
    with pytest.raises(SizingRejectedError) as refused:
        size(capped, live(quote="10000"))
    assert refused.value.code == "max_order_size"
    assert "above your maximum order value of 1000 USDT" in refused.value.reason
    within = request(SizingRule.PERCENT_EQUITY, "5", max_quote=Decimal(1000))
    assert size(within, live(quote="10000")) == (Side.BUY, Decimal("0.00833"))


def test_an_order_above_the_tenants_size_cap_is_refused_not_shrunk() -> None:
    capped = request(SizingRule.QUOTE, "6000", max_base=Decimal("0.05"))
    with pytest.raises(SizingRejectedError) as refused:
        size(capped, live())
    assert "0.1 BTC is above your maximum order size of 0.05 BTC" in refused.value.reason


# The trader holds 2 BTC of their own; the strategy bought 0.1 of the 2.1 in the wallet.
OWN_AND_STRATEGY = {"base": "2.1", "strategy": "0.1"}


def test_a_close_sells_only_what_the_strategy_bought_never_the_traders_own_coins() -> None:
    everything = request(SizingRule.PERCENT_POSITION, "100", Side.SELL)
    assert size(everything, live(**OWN_AND_STRATEGY)) == (Side.SELL, Decimal("0.1"))


def test_a_target_position_counts_the_strategys_coins_not_the_wallets() -> None:
    req = request(SizingRule.TARGET_POSITION, "0.04")
    assert size(req, live(**OWN_AND_STRATEGY)) == (Side.SELL, Decimal("0.06"))
    assert size(request(SizingRule.TARGET_POSITION, "0"), live(**OWN_AND_STRATEGY)) == (
        Side.SELL,
        Decimal("0.1"),
    )


def test_a_sell_of_more_than_the_strategy_holds_sells_what_it_holds_and_says_so() -> None:
    sized = size_order(
        request(SizingRule.BASE, "0.5", Side.SELL), live(**OWN_AND_STRATEGY), BTC, Steps()
    )
    assert (sized.side, sized.amount) == (Side.SELL, Decimal("0.1"))
    assert "not the 0.5 asked" in " ".join(sized.notes)


def test_nothing_is_sold_for_a_strategy_that_bought_nothing_whatever_the_wallet_holds() -> None:
    with pytest.raises(SizingRejectedError, match="never BTC held otherwise") as refused:
        size(request(SizingRule.PERCENT_POSITION, "100", Side.SELL), live(base="2", strategy="0"))
    assert refused.value.code == "nothing_to_close"


def test_coins_gone_from_the_wallet_are_written_off_and_the_rest_is_sold() -> None:
    # The strategy bought 0.1; someone sold 0.06 by hand: 0.04 is left.
    sized = size_order(
        request(SizingRule.PERCENT_POSITION, "100", Side.SELL),
        live(base="0.04", strategy="0.1"),
        BTC,
        Steps(),
    )
    assert (sized.side, sized.amount) == (Side.SELL, Decimal("0.04"))
    assert (sized.position_before, sized.written_off) == (Decimal("0.1"), Decimal("0.06"))
    assert "written off" in " ".join(sized.notes)


def test_locked_coins_are_not_sold_and_the_free_part_is() -> None:
    # All 0.1 are the strategy's, 0.06 of them locked in a resting order.
    sized = size_order(
        request(SizingRule.PERCENT_POSITION, "100", Side.SELL),
        live(base="0.1", free="0.04"),
        BTC,
        Steps(),
    )
    assert (sized.amount, sized.written_off) == (Decimal("0.04"), Decimal(0))
    assert "locked in open orders" in " ".join(sized.notes)
    with pytest.raises(SizingRejectedError, match="locked in open orders") as refused:
        size(request(SizingRule.PERCENT_POSITION, "100", Side.SELL), live(base="0.1", free="0"))
    assert refused.value.code == "balance_locked"


def test_healing_sizes_the_order_to_reach_tradingviews_position() -> None:
    # A buy of 0.1 whose alert says the strategy holds 0.2 after it: one buy was missed.
    missed = request(SizingRule.BASE, "0.1", expected_position=Decimal("0.2"), heal=True)
    sized = size_order(missed, live(strategy="0"), BTC, Steps())
    assert (sized.side, sized.amount, sized.healed) == (Side.BUY, Decimal("0.2"), True)
    reported = request(SizingRule.BASE, "0.1", expected_position=Decimal("0.2"))
    assert size(reported, live(strategy="0")) == (Side.BUY, Decimal("0.1"))


def test_healing_leaves_an_order_alone_when_it_reaches_tradingviews_position() -> None:
    req = request(SizingRule.BASE, "0.1", expected_position=Decimal("0.2"), heal=True)
    sized = size_order(req, live(base="0.1"), BTC, Steps())
    assert (sized.amount, sized.healed) == (Decimal("0.1"), False)
    within_a_lot = dataclasses.replace(BTC, amount_step=Decimal("0.00001"))
    near = request(SizingRule.BASE, "0.1", expected_position=Decimal("0.200001"), heal=True)
    assert not size_order(near, live(base="0.1"), within_a_lot, Steps()).healed


def test_healing_can_sell_when_the_strategy_holds_more_than_tradingview_says() -> None:
    req = request(SizingRule.BASE, "0.1", expected_position=Decimal("0.1"), heal=True)
    sized = size_order(req, live(base="2.3", strategy="0.3"), BTC, Steps())
    assert (sized.side, sized.amount) == (Side.SELL, Decimal("0.2"))


@given(
    wallet=st.decimals(min_value=0, max_value=100, places=5),
    strategy=st.decimals(min_value=0, max_value=100, places=5),
    locked=st.decimals(min_value=0, max_value=100, places=5),
    rule=st.sampled_from(
        [SizingRule.BASE, SizingRule.PERCENT_POSITION, SizingRule.TARGET_POSITION]
    ),
    value=st.decimals(min_value="0.001", max_value=100, places=3),
)
def test_no_sell_ever_exceeds_the_strategys_coins_present_and_free(
    wallet: Decimal, strategy: Decimal, locked: Decimal, rule: SizingRule, value: Decimal
) -> None:
    free = max(wallet - locked, Decimal(0))
    value = min(value, Decimal(100)) if rule is SizingRule.PERCENT_POSITION else value
    data = live(price="100", base=str(wallet), strategy=str(strategy), free=str(free))
    try:
        sized = size_order(request(rule, str(value), Side.SELL), data, BTC, Steps())
    except SizingRejectedError:
        return
    if sized.side is Side.SELL:
        assert 0 < sized.amount <= min(strategy, free, wallet)
        assert sized.written_off == max(Decimal(0), strategy - wallet)


def test_fees_taken_in_the_coin_are_no_reason_to_heal() -> None:
    # The strategy bought 0.1 and the exchange kept 0.0001 of it as its fee; TradingView,
    # which does not count that fee, says 0.2 after this buy of 0.1: no buy was missed.
    req = request(SizingRule.BASE, "0.1", expected_position=Decimal("0.2"), heal=True)
    held = dataclasses.replace(live(base="0.0999"), coin_fees=Decimal("0.0001"))
    assert not size_order(req, held, BTC, Steps()).healed


def test_a_wallet_emptied_by_hand_refuses_the_sell_and_still_writes_the_coins_off() -> None:
    with pytest.raises(SizingRejectedError) as refused:
        size(request(SizingRule.PERCENT_POSITION, "100", Side.SELL), live(strategy="0.1"))
    assert refused.value.code == "nothing_to_close"
    assert (refused.value.written_off, refused.value.position_before) == (
        Decimal("0.1"),
        Decimal("0.1"),
    )
    assert refused.value.reason.startswith("Your wallet holds 0 BTC, less than the 0.1")

"""Sizing on a futures account: shorts, closes against the strategy's own position, targets."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.common.messages import OrderType, Side, SizingRule
from services.executor.domain import MarketRules
from services.executor.orders.contract_sizing import (
    ContractLive,
    effective_position,
    size_contract_order,
)
from services.executor.orders.sizing import SizingRejectedError, SizingRequest

PERP = MarketRules(
    symbol="BTC/USDT:USDT",
    base="BTC",
    quote="USDT",
    min_amount=Decimal("0.001"),
    min_cost=Decimal(5),
    amount_step=Decimal("0.001"),
)


class Steps:
    def amount(self, value: Decimal) -> Decimal:
        return value.quantize(Decimal("0.001"), rounding=ROUND_DOWN)

    def price(self, value: Decimal) -> Decimal:
        return value.quantize(Decimal("0.1"), rounding=ROUND_DOWN)


def req(rule: SizingRule, value: str, side: Side, **kw: object) -> SizingRequest:
    fields: dict[str, object] = {"order_type": OrderType.MARKET} | kw
    return SizingRequest(rule=rule, value=Decimal(value), side=side, **fields)  # type: ignore[arg-type]


def live(held: str = "0", venue: str | None = None, equity: str = "10000") -> ContractLive:
    return ContractLive(
        price=Decimal(60000),
        equity=Decimal(equity),
        position=Decimal(held),
        venue_position=Decimal(held if venue is None else venue),
    )


def test_a_sell_from_flat_opens_a_short() -> None:
    sized = size_contract_order(req(SizingRule.BASE, "0.01", Side.SELL), live(), PERP, Steps())
    assert (sized.side, sized.amount) == (Side.SELL, Decimal("0.010"))


def test_quote_and_percent_of_equity_are_notional_values() -> None:
    quote = size_contract_order(req(SizingRule.QUOTE, "600", Side.BUY), live(), PERP, Steps())
    equity = size_contract_order(
        req(SizingRule.PERCENT_EQUITY, "12", Side.SELL), live(), PERP, Steps()
    )
    assert quote.amount == Decimal("0.010")
    assert equity.amount == Decimal("0.020")  # 12 % of 10,000 USDT at 60,000


def test_closing_a_short_buys_back_only_what_the_strategy_sold() -> None:
    closing = req(SizingRule.PERCENT_POSITION, "100", Side.BUY, reduce_only=True)
    sized = size_contract_order(closing, live("-0.05", venue="-0.08"), PERP, Steps())
    assert (sized.side, sized.amount, sized.written_off) == (Side.BUY, Decimal("0.050"), Decimal(0))


def test_a_close_in_the_wrong_direction_is_refused_in_words() -> None:
    closing = req(SizingRule.PERCENT_POSITION, "100", Side.SELL, reduce_only=True)
    with pytest.raises(SizingRejectedError, match="holds no long BTC position") as refused:
        size_contract_order(closing, live("-0.05"), PERP, Steps())
    assert refused.value.code == "nothing_to_close"


def test_target_position_reaches_a_short_through_zero() -> None:
    sized = size_contract_order(
        req(SizingRule.TARGET_POSITION, "-0.02", Side.SELL), live("0.03"), PERP, Steps()
    )
    assert (sized.side, sized.amount) == (Side.SELL, Decimal("0.050"))


def test_a_position_liquidated_on_the_venue_is_written_off_and_nothing_is_closed() -> None:
    closing = req(SizingRule.PERCENT_POSITION, "100", Side.SELL, reduce_only=True)
    with pytest.raises(SizingRejectedError) as refused:
        size_contract_order(closing, live("0.05", venue="0"), PERP, Steps())
    assert refused.value.written_off == Decimal("0.05")
    assert "liquidated" in refused.value.reason


def test_a_reduce_only_larger_than_the_position_is_cut_to_it_with_a_note() -> None:
    closing = req(SizingRule.BASE, "1", Side.SELL, reduce_only=True)
    sized = size_contract_order(closing, live("0.05"), PERP, Steps())
    assert sized.amount == Decimal("0.050")
    assert "never opens the other way" in sized.notes[0]


@given(
    held=st.decimals("-5", "5", places=3),
    venue=st.decimals("-5", "5", places=3),
)
def test_the_effective_position_never_exceeds_the_strategy_nor_the_venue(
    held: Decimal, venue: Decimal
) -> None:
    found = effective_position(ContractLive(position=held, venue_position=venue))
    assert abs(found) <= abs(held)
    assert found == 0 or (found > 0) == (held > 0)
    assert found == 0 or abs(found) <= abs(venue)

"""Protective orders of a filled entry: prices from the fill, each on its own side, derived ids."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal

import pytest

from libs.common.fsm import OrderState
from libs.common.ids import ClientOrderId, IntentId, TenantId
from libs.common.messages import (
    AccountMode,
    ExitKind,
    OrderRole,
    OrderType,
    PriceTarget,
    PriceUnit,
    Side,
)
from services.executor.domain import OrderRecord
from services.executor.orders.protection import InvalidExitError, order_params, plan, targets

T0 = datetime(2026, 12, 5, tzinfo=UTC)
ALL = frozenset(ExitKind)


class Ticks:
    def amount(self, value: Decimal) -> Decimal:
        return value.quantize(Decimal("0.001"), rounding=ROUND_DOWN)

    def price(self, value: Decimal) -> Decimal:
        return value.quantize(Decimal("0.1"), rounding=ROUND_DOWN)


def entry(
    side: Side = Side.BUY,
    take_profit: PriceTarget | None = None,
    stop_loss: PriceTarget | None = None,
) -> OrderRecord:
    record = OrderRecord(
        client_order_id=ClientOrderId("sp01KBX0000000000000000000000"),
        tenant_id=TenantId("t"),
        partition=0,
        intent_id=IntentId("01KBX000000000000000000000"),
        place_order_id="01KBX000000000000000000001",
        account_label="perps",
        exchange_id="binance",
        mode=AccountMode.PAPER,
        symbol="BTC/USDT:USDT",
        side=side,
        order_type=OrderType.MARKET,
        state=OrderState.FILLED,
        received_at=T0,
        created_at=T0,
        updated_at=T0,
        amount=Decimal("0.01"),
        filled=Decimal("0.01"),
        average_price=Decimal(60000),
    )
    return dataclasses.replace(
        record,
        take_profit=take_profit.model_dump_json() if take_profit else None,
        stop_loss=stop_loss.model_dump_json() if stop_loss else None,
    )


def pct(value: str, kind: ExitKind = ExitKind.MARKET) -> PriceTarget:
    return PriceTarget(value=Decimal(value), unit=PriceUnit.PERCENT, kind=kind)


def test_a_long_gets_a_take_profit_above_and_a_stop_below_as_reduce_only_sells() -> None:
    long = entry(take_profit=pct("2"), stop_loss=pct("1"))
    tp, sl = (plan(long, role, t, Ticks(), ALL) for role, t in targets(long))
    assert (tp.client_order_id, tp.order_type, tp.trigger_price) == (
        long.client_order_id + "t",
        OrderType.TAKE_PROFIT,
        Decimal(61200),
    )
    assert (sl.client_order_id, sl.order_type, sl.trigger_price) == (
        long.client_order_id + "s",
        OrderType.STOP,
        Decimal(59400),
    )
    for child in (tp, sl):
        assert (child.side, child.amount, child.reduce_only) == (Side.SELL, Decimal("0.010"), True)
        assert child.parent_client_order_id == long.client_order_id
        assert child.state is OrderState.PENDING
    assert order_params(tp) == {"reduceOnly": True, "takeProfitPrice": "61200.0"}
    assert order_params(sl) == {"reduceOnly": True, "stopLossPrice": "59400.0"}


def test_a_short_gets_them_the_other_way_round_and_distances_count_from_the_fill() -> None:
    amount = PriceTarget(value=Decimal(500), unit=PriceUnit.AMOUNT)
    short = entry(Side.SELL, take_profit=amount, stop_loss=amount)
    tp, sl = (plan(short, role, t, Ticks(), ALL) for role, t in targets(short))
    assert (tp.side, tp.trigger_price, sl.trigger_price) == (
        Side.BUY,
        Decimal(59500),
        Decimal(60500),
    )


def test_a_stop_price_on_the_wrong_side_is_refused_in_words() -> None:
    wrong = PriceTarget(value=Decimal(61000), unit=PriceUnit.PRICE)
    long = entry(stop_loss=wrong)
    with pytest.raises(InvalidExitError, match="must be below the entry price of 60000"):
        plan(long, OrderRole.STOP_LOSS, wrong, Ticks(), ALL)


def test_stop_limit_and_trailing_stops() -> None:
    limited = PriceTarget(
        value=Decimal(59000), unit=PriceUnit.PRICE, kind=ExitKind.LIMIT, limit_price=Decimal(58900)
    )
    stop = plan(entry(), OrderRole.STOP_LOSS, limited, Ticks(), ALL)
    assert (stop.order_type, stop.trigger_price, stop.price) == (
        OrderType.STOP_LIMIT,
        Decimal(59000),
        Decimal(58900),
    )
    trail = plan(entry(), OrderRole.STOP_LOSS, pct("1.5", ExitKind.TRAILING), Ticks(), ALL)
    assert order_params(trail) == {"reduceOnly": True, "trailingPercent": "1.5"}


def test_a_kind_the_venue_cannot_hold_and_a_trail_by_amount_are_refused() -> None:
    with pytest.raises(InvalidExitError, match="cannot hold a trailing stop-loss"):
        plan(entry(), OrderRole.STOP_LOSS, pct("1", ExitKind.TRAILING), Ticks(), frozenset())
    by_amount = PriceTarget(value=Decimal(600), unit=PriceUnit.AMOUNT, kind=ExitKind.TRAILING)
    with pytest.raises(InvalidExitError, match="1 % of the entry price"):
        plan(entry(), OrderRole.STOP_LOSS, by_amount, Ticks(), ALL)

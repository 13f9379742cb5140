"""Futures in the ledger's pure parts: shorts both ways on a perpetual, unrealized PnL at a
mark, and folding protective orders, marks and funding into rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from libs.common.fsm import OrderState
from libs.common.messages import Event, OrderRole, Side
from services.ledger.domain.inserts import funding_rows, trade_rows
from services.ledger.domain.positions import Position, Trade, apply_fill, market_of, unrealized
from services.ledger.domain.projection import Changes, State, fold
from services.ledger.domain.rows import Sequenced
from tests.helpers.ledger import Order, fill
from tests.integration.ledger.futures import PERP, Protection, funding, marked, protection_failed

D = Decimal
T0 = datetime(2026, 3, 2, tzinfo=UTC)
BTC_PERP = market_of(PERP)


def trade(side: Side, amount: str, price: str, *, fee: str = "0", n: int = 0) -> Trade:
    return Trade(side, D(price), D(amount), D(fee), "USDT", T0 + timedelta(minutes=n))


def run(*trades: Trade) -> Position:
    position = Position()
    for item in trades:
        position = apply_fill(position, item, BTC_PERP).position
    return position


def test_a_perpetual_settles_in_its_quote_currency() -> None:
    assert (BTC_PERP.base, BTC_PERP.quote) == ("BTC", "USDT")


def test_a_sell_from_flat_opens_a_short_at_its_price() -> None:
    position = run(trade(Side.SELL, "0.5", "60000"))
    assert (position.quantity, position.average_price, position.cost) == (
        D("-0.5"),
        D(60000),
        D(30000),
    )


def test_adding_to_a_short_averages_its_entry() -> None:
    # -1 @ 100, -3 @ 108 -> -4 @ 106
    position = run(trade(Side.SELL, "1", "100"), trade(Side.SELL, "3", "108"))
    assert (position.quantity, position.average_price) == (D(-4), D(106))


def test_buying_back_a_short_below_its_entry_realizes_a_gain() -> None:
    # (100 - 90) x 2 = 20, less 0.1 + 0.09 USDT fees
    position = run(trade(Side.SELL, "2", "100", fee="0.1"), trade(Side.BUY, "2", "90", fee="0.09"))
    assert (position.quantity, position.realized_pnl, position.fees) == (
        D(0),
        D("19.81"),
        {"USDT": D("0.19")},
    )


def test_buying_back_a_short_above_its_entry_realizes_a_loss() -> None:
    # (100 - 104) x 1.5 = -6 on the part bought back; 0.5 stays short at 100
    position = run(trade(Side.SELL, "2", "100"), trade(Side.BUY, "1.5", "104"))
    assert (position.quantity, position.average_price, position.realized_pnl) == (
        D("-0.5"),
        D(100),
        D(-6),
    )


def test_a_buy_through_zero_closes_the_short_and_opens_a_long_at_the_fill_price() -> None:
    # short 1 @ 100, buy 3 @ 95: +5 realized, long 2 @ 95 opened at the fill's time
    position = run(trade(Side.SELL, "1", "100"), trade(Side.BUY, "3", "95", n=7))
    assert (position.quantity, position.average_price, position.realized_pnl) == (
        D(2),
        D(95),
        D(5),
    )
    assert position.opened_at == T0 + timedelta(minutes=7)


def test_a_sell_through_zero_closes_the_long_and_opens_a_short_at_the_fill_price() -> None:
    position = run(trade(Side.BUY, "2", "100"), trade(Side.SELL, "5", "110"))
    assert (position.quantity, position.average_price, position.realized_pnl) == (
        D(-3),
        D(110),
        D(20),
    )


amounts = st.decimals(min_value=D("0.001"), max_value=D(1000), places=3)
prices = st.decimals(min_value=D("0.01"), max_value=D(100_000), places=2)


@settings(max_examples=60, deadline=None)
@given(amounts, prices, prices)
def test_a_short_round_trip_realizes_entry_minus_exit_times_amount(
    amount: Decimal, entry: Decimal, exit_: Decimal
) -> None:
    position = run(
        trade(Side.SELL, str(amount), str(entry)), trade(Side.BUY, str(amount), str(exit_))
    )
    assert position.quantity == 0
    assert position.realized_pnl == (entry - exit_) * amount


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(Side), amounts, prices, prices)
def test_unrealized_at_a_mark_is_what_closing_there_would_realize(
    side: Side, amount: Decimal, entry: Decimal, mark: Decimal
) -> None:
    opened = run(trade(side, str(amount), str(entry)))
    back = Side.BUY if side is Side.SELL else Side.SELL
    closed = apply_fill(opened, trade(back, str(amount), str(mark)), BTC_PERP).position
    assert unrealized(opened.quantity, opened.cost, mark) == closed.realized_pnl


def test_unrealized_is_mark_minus_entry_times_the_signed_quantity() -> None:
    short = run(trade(Side.SELL, "2", "100"))
    assert unrealized(short.quantity, short.cost, D(97)) == D(6)
    assert unrealized(D(0), D(0), D(97)) == 0


def sequenced(events: list[Event]) -> list[Sequenced]:
    return [Sequenced(seq, event) for seq, event in enumerate(events, start=1)]


def fold_all(events: list[Event]) -> Changes:
    items = sequenced(events)
    new_trades = {row.id for row in trade_rows(items)}
    new_funding = {row.id for row in funding_rows(items)}
    return fold(items, new_trades, State(), new_funding)


def test_a_protective_order_keeps_its_role_parent_and_trigger_and_moves_the_position() -> None:
    entry = Order("tenant-a", symbol=PERP)
    tp = Protection.of(entry, OrderRole.TAKE_PROFIT)
    changes = fold_all(
        [
            *entry.trade(fill("e1", "100", "1")),
            tp.placed("1", trigger="110"),
            tp.filled(fill("t1", "110", "1")),
        ]
    )
    row = changes.orders[("tenant-a", tp.client_order_id)]
    assert (row.role, row.parent_client_order_id, row.intent_id) == (
        "take_profit",
        entry.client_order_id,
        entry.intent_id,
    )
    assert (row.trigger_price, row.reduce_only, row.order_type) == (D(110), True, "take_profit")
    assert row.status is OrderState.FILLED
    position = changes.positions[("tenant-a", "main", PERP)].position
    assert (position.quantity, position.realized_pnl) == (D(0), D(10))
    placed = next(
        line for line in changes.order_events if line.client_order_id == row.client_order_id
    )
    assert (placed.detail["trigger_price"], placed.detail["reduce_only"]) == ("110", True)


def test_a_failed_protection_is_a_line_in_the_entrys_history_and_changes_no_status() -> None:
    entry = Order("tenant-a", symbol=PERP)
    failure = protection_failed(entry, OrderRole.STOP_LOSS, "Refused: would trigger at once.")
    changes = fold_all([*entry.trade(fill("e1", "100", "1")), failure])
    assert changes.orders[("tenant-a", entry.client_order_id)].status is OrderState.FILLED
    line = changes.order_events[-1]
    assert (line.kind, line.status) == ("protection.failed", "filled")
    assert line.detail == {"protection": "stop_loss", "reason": "Refused: would trigger at once."}


def test_the_newest_mark_is_kept_whatever_order_the_marks_arrive_in() -> None:
    t1, t2 = T0, T0 + timedelta(seconds=5)
    changes = fold_all(
        [
            marked("tenant-a", "1", "100", "101", "1", at=t2),
            marked("tenant-a", "1", "100", "99", "-1", at=t1),
        ]
    )
    (mark,) = changes.marks.values()
    assert (mark.mark_price, mark.marked_at) == (D(101), t2)


def test_only_funding_not_recorded_before_counts_in_the_day() -> None:
    paid = funding("tenant-a", "-0.25", "f1", at=T0)
    again = funding("tenant-a", "-0.25", "f1", at=T0)
    items = sequenced([paid, again])
    changes = fold(items, set(), State(), {paid.message_id})  # the insert kept the first
    assert [(d.currency, d.funding, d.fills) for d in changes.daily] == [("USDT", D("-0.25"), 0)]

"""Folding events into rows: orders, intents, positions and daily PnL, without a database."""

from __future__ import annotations

from decimal import Decimal

from libs.common.fsm import OrderState
from libs.common.messages import Event, RejectReason, Side
from services.ledger.domain.inserts import trade_rows
from services.ledger.domain.projection import Changes, State, fold
from services.ledger.domain.rows import Sequenced
from tests import factories
from tests.helpers.ledger import Order, fill

D = Decimal


def sequenced(events: list[Event]) -> list[Sequenced]:
    return [Sequenced(seq, event) for seq, event in enumerate(events, start=1)]


def fold_all(events: list[Event], state: State | None = None) -> Changes:
    items = sequenced(events)
    return fold(items, {row.id for row in trade_rows(items)}, state or State())


def test_partial_fills_then_the_last_one_fill_the_order() -> None:
    order = Order("tenant-a")
    changes = fold_all(
        [
            *order.opened("1"),
            order.filled(fill("t1", "100", "0.4"), complete=False),
            order.filled(fill("t2", "110", "0.6")),
        ]
    )
    row = changes.orders[("tenant-a", order.client_order_id)]
    assert row.status is OrderState.FILLED
    assert (row.filled_amount, row.filled_notional) == (D("1.0"), D(106))
    statuses = [line.status for line in changes.order_events]
    assert statuses == ["submitted", "partially_filled", "filled"]
    position = changes.positions[("tenant-a", "main", "BTC/USDT")].position
    assert (position.quantity, position.average_price) == (D("1.0"), D(106))


def test_a_fill_recorded_before_moves_nothing_twice() -> None:
    order = Order("tenant-a")
    again = order.filled(fill("t1", "100", "1"))
    items = sequenced([*order.opened(), again])
    changes = fold(items, set(), State())  # the trade insert found t1 already there
    assert ("tenant-a", "main", "BTC/USDT") not in changes.positions
    assert changes.orders[("tenant-a", order.client_order_id)].filled_amount == 0
    assert changes.order_events[-1].detail["new_fills"] == 0
    assert changes.daily == []


def test_a_fill_after_a_cancel_is_kept_but_the_order_stays_canceled() -> None:
    order = Order("tenant-a")
    changes = fold_all([*order.opened(), order.canceled(), order.filled(fill("t1", "100", "1"))])
    row = changes.orders[("tenant-a", order.client_order_id)]
    assert row.status is OrderState.CANCELED
    assert row.filled_amount == 1
    assert "cannot go from canceled to filled" in str(changes.order_events[-1].detail["note"])
    assert changes.positions[("tenant-a", "main", "BTC/USDT")].position.quantity == 1


def test_a_rejected_alert_keeps_its_reason_whatever_the_order_of_events() -> None:
    order = Order("tenant-a")
    orders: list[list[Event]] = [
        [order.accepted(), order.rejected()],
        [order.rejected(), order.accepted()],
    ]
    for events in orders:
        intent = fold_all(events).intents[("tenant-a", order.intent_id)]
        assert intent.status == "rejected"
        assert intent.reject_reason == RejectReason.QUOTA_EXCEEDED.value
        assert intent.accepted_at is not None


def test_the_exchange_reason_of_a_rejected_order_is_kept() -> None:
    order = Order("tenant-a")
    row = fold_all([*order.opened(), order.exchange_rejected("Insufficient balance.")]).orders[
        ("tenant-a", order.client_order_id)
    ]
    assert (row.status, row.reason, row.reason_code) == (
        OrderState.REJECTED,
        "Insufficient balance.",
        "-2010",
    )


def test_daily_pnl_books_each_currency_apart() -> None:
    buy, sell = Order("tenant-a"), Order("tenant-a", side=Side.SELL)
    changes = fold_all(
        [
            *buy.trade(fill("t1", "100", "1", fee="0.1", fee_currency="USDT")),
            *sell.trade(fill("t2", "110", "1", fee="0.001", fee_currency="BNB")),
        ]
    )
    booked = [(d.currency, d.realized_pnl, d.fees, d.volume, d.fills) for d in changes.daily]
    assert booked == [
        ("USDT", D("-0.1"), D("0.1"), D(100), 1),
        ("USDT", D(10), D(0), D(110), 1),
        ("BNB", D(0), D("0.001"), D(0), 0),
    ]


def test_positions_are_kept_per_account_and_symbol() -> None:
    main, other = Order("tenant-a"), Order("tenant-a", account="other", symbol="ETH/USDT")
    changes = fold_all([*main.trade(fill("t1", "100", "1")), *other.trade(fill("t1", "5", "2"))])
    assert set(changes.positions) == {
        ("tenant-a", "main", "BTC/USDT"),
        ("tenant-a", "other", "ETH/USDT"),
    }


def test_kill_switch_and_billing_notices_change_nothing_in_the_ledger() -> None:
    order = Order("tenant-a")
    notices: list[Event] = [
        factories.kill_switch_changed("tenant-a"),
        factories.payment_failed("tenant-a"),
        factories.grace_ending("tenant-a"),
    ]
    trade: list[Event] = [*order.opened("1"), order.filled(fill("t1", "100", "1"))]
    with_notices = fold_all([*trade[:1], *notices, *trade[1:]])
    without = fold_all(trade)
    assert (with_notices.orders, with_notices.positions) == (without.orders, without.positions)
    assert (with_notices.intents, with_notices.daily) == (without.intents, without.daily)
    assert len(with_notices.order_events) == len(without.order_events)

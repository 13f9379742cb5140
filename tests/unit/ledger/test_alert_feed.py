"""The alert feed's rows: each alert's status, outcome and reason through its whole life."""

from __future__ import annotations

from decimal import Decimal

from libs.common.messages import Event, OrderRole, RefusalReason, Side
from services.ledger.domain import alerts
from services.ledger.domain.inserts import trade_rows
from services.ledger.domain.projection import Changes, State, fold
from services.ledger.domain.rows import IntentRow, Sequenced
from tests import factories
from tests.helpers.ledger import Order, fill

D = Decimal
TENANT = "tenant-a"


def fold_all(events: list[Event], state: State | None = None) -> Changes:
    items = [Sequenced(seq, event) for seq, event in enumerate(events, start=1)]
    return fold(items, {row.id for row in trade_rows(items)}, state or State())


def alert_of(order: Order, events: list[Event]) -> IntentRow:
    return fold_all(events).intents[(TENANT, order.intent_id)]


def test_an_alert_is_received_then_placed_then_partly_filled_then_filled() -> None:
    order = Order(TENANT, strategy="Trend")
    steps: list[Event] = [
        order.accepted(),
        order.submitted("1"),
        order.filled(fill("t1", "100", "0.4"), complete=False),
        order.filled(fill("t2", "110", "0.6")),
    ]
    seen = [alert_of(order, steps[:n]).feed_status for n in range(1, len(steps) + 1)]
    assert seen == ["received", "placed", "partially_filled", "filled"]
    row = alert_of(order, steps)
    assert (row.strategy, row.filled_amount, alerts.average_price(row)) == ("Trend", D(1), D(106))
    assert row.outcome == "Filled on binance: buy 1 BTC/USDT at 106 on average."
    assert row.reason is None


def test_a_rejected_alert_says_why_in_words_and_by_code() -> None:
    order = Order(TENANT)
    row = alert_of(order, [order.accepted(), order.rejected()])
    assert (row.feed_status, row.reason) == ("rejected", "quota_exceeded")
    assert row.outcome == "Rejected: You reached your plan's 20 orders per day."


def test_the_exchange_refusing_the_order_rejects_the_alert_with_the_exchange_code() -> None:
    order = Order(TENANT)
    row = alert_of(order, [*order.opened(), order.exchange_rejected("Insufficient balance.")])
    assert (row.feed_status, row.reason) == ("rejected", "-2010")
    assert row.outcome == "Rejected by binance: Insufficient balance."


def test_a_failed_order_fails_the_alert() -> None:
    order = Order(TENANT)
    row = alert_of(order, [order.accepted(), order.failed()])
    assert (row.feed_status, row.reason) == ("failed", "order_failed")
    assert row.outcome == "Not placed on binance: Exchange unreachable for 60 s."


def test_a_canceled_order_after_a_partial_fill_says_how_much_filled() -> None:
    order = Order(TENANT)
    events = [*order.opened(), order.filled(fill("t1", "100", "0.25"), complete=False)]
    row = alert_of(order, [*events, order.canceled("0.25")])
    assert row.feed_status == "canceled"
    assert (
        row.outcome == "Canceled on binance after 0.25 filled at 100 on average: canceled by alert"
    )


def test_an_order_event_before_the_alert_is_kept_and_the_alert_fills_it_in() -> None:
    order = Order(TENANT, strategy="Swing")
    row = alert_of(order, [order.submitted(), order.accepted()])
    assert (row.feed_status, row.strategy, row.webhook_id is not None) == ("placed", "Swing", True)


def test_a_refusal_at_the_webhook_is_an_alert_of_its_own() -> None:
    event = factories.alert_refused(TENANT, reason=RefusalReason.RATE_LIMITED, status=429, count=5)
    row = fold_all([event]).intents[(TENANT, event.message_id)]
    assert (row.feed_status, row.reason, row.webhook_id) == (
        "refused",
        "rate_limited",
        event.webhook_id,
    )
    assert row.received_at == event.first_refused_at
    assert "(5 requests)" in (row.outcome or "")
    assert "HTTP 429" in (row.outcome or "")


def test_a_closing_alert_realizes_pnl_under_its_strategy() -> None:
    buy = Order(TENANT, strategy="Trend")
    sell = Order(TENANT, side=Side.SELL, strategy="Trend")
    changes = fold_all(
        [*buy.trade(fill("t1", "100", "1", fee="0")), *sell.trade(fill("t2", "130", "1", fee="0"))]
    )
    assert changes.intents[(TENANT, sell.intent_id)].realized_pnl == 30
    assert changes.intents[(TENANT, sell.intent_id)].pnl_currency == "USDT"
    trend = [(d.strategy, d.realized_pnl, d.fills) for d in changes.strategy_daily]
    assert trend == [("Trend", D(0), 1), ("Trend", D(30), 1)]


def test_a_protective_order_moves_pnl_but_not_the_alerts_status() -> None:
    entry = Order(TENANT, strategy="Trend")
    events = entry.trade(fill("t1", "100", "1", fee="0"))
    changes = fold_all(events)
    state = State(intents=dict(changes.intents), orders=dict(changes.orders))
    state.positions = dict(changes.positions)
    stop = Order(TENANT, intent_id=entry.intent_id, leg=1, side=Side.SELL)
    protective = stop.filled(fill("t2", "90", "1", fee="0"))
    protective = protective.model_copy(update={"role": OrderRole.STOP_LOSS})
    row = fold_all([protective], state).intents[(TENANT, entry.intent_id)]
    assert (row.feed_status, row.filled_amount, row.realized_pnl) == ("filled", D(1), D(-10))

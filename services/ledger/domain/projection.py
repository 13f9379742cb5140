"""Fold a batch of events into row changes.

Pure: the same events in the same order give the same rows, whatever the batch boundaries,
which is what makes a rebuild reproduce the tables. The caller loads the rows a batch
touches, inserts its trades first (so a fill already recorded under another event is known:
`services.ledger.domain.inserts`), then writes back what `Fold` changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from libs.common.messages import (
    AlertRefused,
    FundingPaid,
    IntentAccepted,
    IntentRejected,
    OrderFilled,
    PositionDrift,
    PositionMarked,
)
from libs.common.messages.events import Fill, OrderEvent
from services.ledger.domain import alerts, orders, strategies
from services.ledger.domain.inserts import trade_uid
from services.ledger.domain.positions import (
    EXACT,
    UNKNOWN_CURRENCY,
    ZERO,
    Position,
    Trade,
    apply_fill,
    market_of,
    write_off,
)
from services.ledger.domain.rows import (
    DailyDelta,
    IntentKey,
    IntentRow,
    MarkRow,
    OrderEventRow,
    OrderKey,
    OrderRow,
    PositionKey,
    PositionRow,
    Sequenced,
    StrategyDelta,
    StrategyTally,
)


@dataclass
class State:
    """The rows a batch touches, as loaded before it is applied; updated as it folds."""

    intents: dict[IntentKey, IntentRow] = field(default_factory=dict)
    orders: dict[OrderKey, OrderRow] = field(default_factory=dict)
    positions: dict[PositionKey, PositionRow] = field(default_factory=dict)


@dataclass
class Changes:
    """What to write back: rows to upsert, history to insert, PnL to add."""

    intents: dict[IntentKey, IntentRow] = field(default_factory=dict)
    orders: dict[OrderKey, OrderRow] = field(default_factory=dict)
    positions: dict[PositionKey, PositionRow] = field(default_factory=dict)
    order_events: list[OrderEventRow] = field(default_factory=list)
    daily: list[DailyDelta] = field(default_factory=list)
    strategy_daily: list[StrategyDelta] = field(default_factory=list)
    strategy_totals: list[StrategyTally] = field(default_factory=list)
    marks: dict[PositionKey, MarkRow] = field(default_factory=dict)


def fold(
    events: Sequence[Sequenced],
    new_trades: set[str],
    state: State,
    new_funding: frozenset[str] | set[str] = frozenset(),
) -> Changes:
    """Apply ``events`` in order to ``state``; only fills whose row id is in ``new_trades``
    and funding payments whose row id is in ``new_funding`` (inserted by this batch, not seen
    before) move positions and PnL.
    """
    folder = _Fold(state, new_trades, new_funding)
    for item in events:
        folder.apply(item)
    changes = folder.changes
    changes.strategy_totals = strategies.tallies(folder.before, changes.intents)
    return changes


class _Fold:
    def __init__(
        self, state: State, new_trades: set[str], new_funding: frozenset[str] | set[str]
    ) -> None:
        self.state = state
        self.new_trades = new_trades
        self.new_funding = new_funding
        self.changes = Changes()
        # Each alert as it was before the batch: the strategies' figures move by the difference.
        self.before: dict[IntentKey, IntentRow | None] = {}

    def apply(self, item: Sequenced) -> None:
        event = item.event
        if isinstance(event, IntentAccepted):
            self._intent(alerts.accepted(self.state.intents.get(_intent_key(event)), event))
        elif isinstance(event, IntentRejected):
            self._intent(alerts.rejected(self.state.intents.get(_intent_key(event)), event))
        elif isinstance(event, AlertRefused):
            self._intent(alerts.refused(event))
        elif isinstance(event, PositionMarked):
            self._mark(event)
        elif isinstance(event, FundingPaid):
            self._funding(event)
        elif isinstance(event, OrderEvent):
            self._order_event(item, event)
        # Anything else is not the ledger's: a deleted tenant's history stays (billing's
        # retention decides about it), kill switch and billing notices are the notifier's.

    def _mark(self, event: PositionMarked) -> None:
        """Keep the newest mark of the position (the first of equal times, as the database
        does across batches)."""
        row = _mark_row(event)
        kept = self.changes.marks.get(row.key)
        if kept is None or row.marked_at > kept.marked_at:
            self.changes.marks[row.key] = row

    def _funding(self, event: FundingPaid) -> None:
        """Count a payment not recorded before in its day's PnL, in its own currency."""
        if event.message_id not in self.new_funding:
            return
        self.changes.daily.append(
            DailyDelta(
                event.tenant_id,
                event.account_label,
                event.paid_at.date(),
                event.currency.upper(),
                ZERO,
                ZERO,
                ZERO,
                0,
                funding=event.amount,
            )
        )

    def _intent(self, row: IntentRow) -> None:
        key = (row.tenant_id, row.intent_id)
        if key not in self.before:
            self.before[key] = self.state.intents.get(key)
        self.state.intents[key] = self.changes.intents[key] = row

    def _order_event(self, item: Sequenced, event: OrderEvent) -> None:
        new_fills = self._new_fills(event) if isinstance(event, OrderFilled) else []
        key = (event.tenant_id, event.client_order_id)
        before = self.state.orders.get(key)
        after, note = orders.next_order(before, event, new_fills)
        self.state.orders[key] = self.changes.orders[key] = after
        self.changes.order_events.append(
            orders.history_row(item.seq, event, after.status, len(new_fills), note)
        )
        # The order's alert: a cancel asked through the API is another intent, not the alert.
        alert_key = (event.tenant_id, after.intent_id)
        self._intent(alerts.ordered(self.state.intents.get(alert_key), after, event, new_fills))
        for fill in new_fills:
            self._position(event, fill, alert_key)
        if isinstance(event, PositionDrift) and event.written_off:
            self._write_off(event)

    def _new_fills(self, event: OrderFilled) -> list[Fill]:
        return [
            fill
            for index, fill in enumerate(event.fills)
            if trade_uid(event.message_id, index) in self.new_trades
        ]

    def _position(self, event: OrderEvent, fill: Fill, alert_key: IntentKey) -> None:
        key = (event.tenant_id, event.account_label, event.symbol)
        row = self.state.positions.get(key) or _flat(event)
        trade = Trade(
            event.side, fill.price, fill.amount, fill.fee, fill.fee_currency, fill.filled_at
        )
        outcome = apply_fill(row.position, trade, row.market)
        row = replace(
            row, exchange_id=event.exchange_id, position=outcome.position, fills=row.fills + 1
        )
        self.state.positions[key] = self.changes.positions[key] = row
        quote = row.market.quote or UNKNOWN_CURRENCY
        day = fill.filled_at.date()
        volume = trade.notional_in(EXACT)
        self.changes.daily.append(
            DailyDelta(*key[:2], day, quote, outcome.realized_delta, outcome.quote_fee, volume, 1)
        )
        alert = alerts.realized(self.state.intents[alert_key], outcome.realized_delta, quote)
        self._intent(alert)
        self.changes.strategy_daily.append(
            StrategyDelta(
                event.tenant_id, alert.strategy or "", day, quote, outcome.realized_delta, 1
            )
        )
        if fill.fee and trade.fee_key != quote:
            self.changes.daily.append(
                DailyDelta(*key[:2], day, trade.fee_key, ZERO, fill.fee, ZERO, 0)
            )

    def _write_off(self, event: PositionDrift) -> None:
        """Take coins the wallet no longer held off the position (nothing realized)."""
        key = (event.tenant_id, event.account_label, event.symbol)
        row = self.state.positions.get(key) or _flat(event)
        position = write_off(row.position, event.written_off, event.occurred_at)
        self.state.positions[key] = self.changes.positions[key] = replace(row, position=position)


def _intent_key(event: IntentAccepted | IntentRejected) -> IntentKey:
    return (event.tenant_id, event.intent_id)


def _mark_row(event: PositionMarked) -> MarkRow:
    return MarkRow(
        tenant_id=event.tenant_id,
        account_label=event.account_label,
        symbol=event.symbol,
        exchange_id=event.exchange_id,
        quantity=event.quantity,
        entry_price=event.entry_price,
        mark_price=event.mark_price,
        unrealized_pnl=event.unrealized_pnl,
        liquidation_price=event.liquidation_price,
        marked_at=event.marked_at,
        message_id=event.message_id,
    )


def _flat(event: OrderEvent) -> PositionRow:
    return PositionRow(
        tenant_id=event.tenant_id,
        account_label=event.account_label,
        symbol=event.symbol,
        exchange_id=event.exchange_id,
        market=market_of(event.symbol),
        position=Position(),
        fills=0,
    )

"""The rows of the ledger's projections, as plain values the projection folds events into."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from libs.common.fsm import OrderState
from libs.common.messages import Event
from services.ledger.domain.positions import Market, Position

IntentKey = tuple[str, str]  # tenant, intent id
OrderKey = tuple[str, str]  # tenant, client order id
PositionKey = tuple[str, str, str]  # tenant, account label, symbol
Detail = dict[str, str | int | bool | None]


@dataclass(frozen=True, slots=True)
class Sequenced:
    """An event and its place in the EVENTS stream."""

    seq: int
    event: Event


@dataclass(frozen=True, slots=True)
class Poison:
    """A message that could not be decoded or validated: kept for an operator, then acked."""

    seq: int
    subject: str
    error: str
    payload: str


@dataclass(frozen=True, slots=True)
class IntentRow:
    """One alert: what the router made of it (``status``) and, for the trader's feed, where
    it is now (``feed_status``, ``outcome`` in words, ``reason`` code), its fills and the PnL
    they realized. A refusal at the webhook is a row too (``refused``, keyed by its event id).
    """

    tenant_id: str
    intent_id: str
    status: str  # accepted | rejected | refused
    updated_at: datetime
    webhook_id: str | None = None
    action: str | None = None
    symbol: str | None = None
    received_at: datetime | None = None
    accepted_at: datetime | None = None
    reject_reason: str | None = None
    reject_message: str | None = None
    rejected_at: datetime | None = None
    strategy: str | None = None
    feed_status: str = "received"
    outcome: str | None = None
    reason: str | None = None
    filled_amount: Decimal = Decimal(0)
    filled_notional: Decimal = Decimal(0)
    realized_pnl: Decimal = Decimal(0)
    pnl_currency: str | None = None


@dataclass(frozen=True, slots=True)
class OrderRow:
    tenant_id: str
    client_order_id: str
    intent_id: str
    account_label: str
    exchange_id: str
    symbol: str
    side: str
    status: OrderState
    filled_amount: Decimal
    filled_notional: Decimal
    created_at: datetime
    updated_at: datetime
    exchange_order_id: str | None = None
    order_type: str | None = None
    amount: Decimal | None = None
    price: Decimal | None = None
    reason: str | None = None
    reason_code: str | None = None
    role: str = "order"  # order | take_profit | stop_loss | cancel
    parent_client_order_id: str | None = None  # the entry a protective order protects
    trigger_price: Decimal | None = None
    reduce_only: bool = False
    leverage: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OrderEventRow:
    """One line of an order's history."""

    message_id: str
    tenant_id: str
    intent_id: str
    client_order_id: str
    kind: str
    status: str
    occurred_at: datetime
    stream_seq: int
    detail: Detail


@dataclass(frozen=True, slots=True)
class TradeRow:
    """One fill. ``id`` is the event's message id and the fill's index: the same on replay."""

    id: str
    tenant_id: str
    account_label: str
    exchange_id: str
    symbol: str
    side: str
    price: Decimal
    amount: Decimal
    fee: Decimal
    fee_currency: str | None
    trade_id: str
    client_order_id: str
    exchange_order_id: str
    intent_id: str
    filled_at: datetime
    message_id: str


@dataclass(frozen=True, slots=True)
class PositionRow:
    tenant_id: str
    account_label: str
    symbol: str
    exchange_id: str
    market: Market
    position: Position
    fills: int

    @property
    def key(self) -> PositionKey:
        return (self.tenant_id, self.account_label, self.symbol)


@dataclass(frozen=True, slots=True)
class DailyDelta:
    """What one fill adds to a day's PnL in one currency (summed by the database)."""

    tenant_id: str
    account_label: str
    day: date
    currency: str
    realized_pnl: Decimal
    fees: Decimal
    volume: Decimal
    fills: int
    funding: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class StrategyDelta:
    """What one fill adds to a strategy's day (``strategy`` "" for alerts without one)."""

    tenant_id: str
    strategy: str
    day: date
    currency: str
    realized_pnl: Decimal
    fills: int


@dataclass(frozen=True, slots=True)
class StrategyTally:
    """What alerts add to a strategy's figures (negative when an alert leaves a count).

    ``currency`` "" holds the strategy's counts (alerts, trades, wins, losses) and its last
    signal; ``currency`` set holds the alerts whose fills realized PnL in it, and their sum.
    """

    tenant_id: str
    strategy: str
    currency: str
    alerts: int
    trades: int = 0
    wins: int = 0
    losses: int = 0
    realized_pnl: Decimal = Decimal(0)
    last_signal_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MarkRow:
    """The venue's latest view of one position: its mark price and what it makes of it."""

    tenant_id: str
    account_label: str
    symbol: str
    exchange_id: str
    quantity: Decimal
    entry_price: Decimal | None
    mark_price: Decimal
    unrealized_pnl: Decimal
    liquidation_price: Decimal | None
    marked_at: datetime
    message_id: str

    @property
    def key(self) -> PositionKey:
        return (self.tenant_id, self.account_label, self.symbol)


@dataclass(frozen=True, slots=True)
class FundingRow:
    """One funding payment (``amount`` signed: negative paid, positive received).
    ``id`` is the event's message id; the payment's identity is the venue's funding id."""

    id: str
    tenant_id: str
    account_label: str
    exchange_id: str
    symbol: str
    amount: Decimal
    currency: str
    funding_id: str
    paid_at: datetime

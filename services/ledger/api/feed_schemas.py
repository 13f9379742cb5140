"""What the alert feed's routes return (``/alerts``, ``/strategies``, ``/pnl/daily``)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from libs.common.messages.enums import AlertStatus
from services.ledger.api.schemas import HistoryOut, Money, OrderOut, Out, TradeOut


class AlertOut(Out):
    """One alert a webhook received (or refused), where it is now."""

    intent_id: str = Field(description="The alert's id (a refusal's: its event's).")
    webhook_id: str
    received_at: datetime
    updated_at: datetime
    action: str | None = Field(description="buy, sell, exit, cancel…; null when refused.")
    symbol: str | None = Field(description="The ticker as TradingView sent it.")
    strategy: str | None = Field(description="The alert's strategy field.")
    status: AlertStatus
    outcome: str | None = Field(description="What became of it, in one sentence.")
    reason: str | None = Field(description="Why it was refused, rejected or failed (a code).")
    filled_amount: Money | None = Field(description="Filled so far (base currency).")
    average_price: Money | None
    seq: int = Field(description="Grows with every change of any alert: the stream's id.")


class AlertsOut(Out):
    alerts: list[AlertOut]
    next_cursor: str | None


class AlertEventOut(HistoryOut):
    """One thing that happened to one of the alert's orders, with when after the alert."""

    client_order_id: str
    after_ms: int | None = Field(description="Milliseconds since the alert was received.")


class AlertDetailOut(Out):
    """One alert and its trail: orders, fills, and every event with its timing."""

    alert: AlertOut
    orders: list[OrderOut]
    fills: list[TradeOut]
    events: list[AlertEventOut]


class StrategyOut(Out):
    """One strategy seen in alerts. A trade is an alert that filled; a win, one whose fills
    realized a profit (a loss: a loss)."""

    strategy: str
    alerts: int
    trades: int
    wins: int
    losses: int
    win_rate: float | None = Field(description="wins / (wins + losses); null before either.")
    realized_pnl: Money | None = Field(description="Null when in several currencies.")
    currency: str | None
    realized_pnl_by_currency: dict[str, Money]
    last_signal_at: datetime | None


class StrategiesOut(Out):
    strategies: list[StrategyOut]


class DailyPnlOut(Out):
    """Realized PnL of one UTC day in one quote currency, and its running total."""

    day: date
    currency: str
    realized_pnl: Money
    cumulative_pnl: Money
    trades: int = Field(description="Fills that day.")


class DailyPnlListOut(Out):
    days: list[DailyPnlOut]

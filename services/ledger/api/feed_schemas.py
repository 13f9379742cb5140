"""What the alert feed's routes return (``/alerts``, ``/strategies``, ``/pnl/daily``)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import ConfigDict, Field

from libs.common.messages.enums import AlertStatus
from services.ledger import examples
from services.ledger.api.schemas import HistoryOut, Money, OrderOut, Out, TradeOut


class AlertOut(Out):
    """One alert a webhook received (or refused), where it is now."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.ALERT]})

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
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"alerts": [examples.ALERT], "next_cursor": "1041"}]}
    )
    alerts: list[AlertOut]
    next_cursor: str | None


class AlertEventOut(HistoryOut):
    """One thing that happened to one of the alert's orders, with when after the alert."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.ALERT_EVENT]})

    client_order_id: str
    after_ms: int | None = Field(description="Milliseconds since the alert was received.")


class AlertDetailOut(Out):
    """One alert and its trail: orders, fills, and every event with its timing."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.ALERT_DETAIL]})

    alert: AlertOut
    orders: list[OrderOut]
    fills: list[TradeOut]
    events: list[AlertEventOut]


class StrategyOut(Out):
    """One strategy seen in alerts. A trade is an alert that filled; a win, one whose fills
    realized a profit (a loss: a loss)."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.STRATEGY]})

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
    model_config = ConfigDict(json_schema_extra={"examples": [{"strategies": [examples.STRATEGY]}]})
    strategies: list[StrategyOut]


class DailyPnlOut(Out):
    """Realized PnL of one UTC day in one quote currency, and its running total."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.DAILY_PNL]})

    day: date
    currency: str
    realized_pnl: Money
    cumulative_pnl: Money
    trades: int = Field(description="Fills that day.")


class DailyPnlListOut(Out):
    model_config = ConfigDict(json_schema_extra={"examples": [{"days": [examples.DAILY_PNL]}]})
    days: list[DailyPnlOut]

"""The projection tables as the read API queries them (no schema: the search path picks it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnClause,
    Date,
    DateTime,
    Integer,
    Numeric,
    Text,
    column,
    table,
)
from sqlalchemy.dialects.postgresql import JSONB


def _texts(*names: str) -> list[ColumnClause[Any]]:
    return [column(name, Text) for name in names]


def _numbers(*names: str) -> list[ColumnClause[Any]]:
    return [column(name, Numeric(asdecimal=True)) for name in names]


def _times(*names: str) -> list[ColumnClause[Any]]:
    return [column(name, DateTime(timezone=True)) for name in names]


TRADES = table(
    "trades",
    *_texts("id", "account_label", "exchange_id", "symbol", "side", "fee_currency", "trade_id"),
    *_texts("client_order_id", "exchange_order_id", "intent_id"),
    *_numbers("price", "amount", "fee"),
    *_times("filled_at"),
)
POSITIONS = table(
    "positions",
    *_texts("account_label", "symbol", "exchange_id", "base", "quote"),
    *_numbers("quantity", "average_price", "realized_pnl", "cost"),
    column("fees", JSONB),
    column("fills", Integer),
    *_times("opened_at", "updated_at"),
)
DAILY = table(
    "daily_pnl",
    *_texts("account_label", "currency"),
    column("day", Date),
    *_numbers("realized_pnl", "fees", "volume", "funding"),
    column("fills", Integer),
)
INTENTS = table(
    "intents",
    *_texts("intent_id", "status", "action", "symbol", "reject_reason", "reject_message"),
    *_texts("webhook_id", "strategy", "feed_status", "outcome", "reason", "pnl_currency"),
    *_numbers("filled_amount", "filled_notional", "realized_pnl"),
    *_times("received_at", "accepted_at", "rejected_at", "updated_at"),
    column("seq", BigInteger),
)
STRATEGY_DAILY = table(
    "strategy_daily",
    *_texts("strategy", "currency"),
    column("day", Date),
    *_numbers("realized_pnl"),
    column("fills", Integer),
)
STRATEGY_TOTALS = table(
    "strategy_totals",
    *_texts("strategy", "currency"),
    *(column(name, Integer) for name in ("alerts", "trades", "wins", "losses")),
    *_numbers("realized_pnl"),
    *_times("last_signal_at"),
)
ORDERS = table(
    "orders",
    *_texts("client_order_id", "intent_id", "account_label", "exchange_id", "symbol", "side"),
    *_texts("status", "exchange_order_id", "order_type", "reason", "reason_code"),
    *_texts("role", "parent_client_order_id"),
    *_numbers("amount", "price", "filled_amount", "filled_notional", "trigger_price", "leverage"),
    column("reduce_only", Boolean),
    *_times("created_at", "updated_at"),
)
ORDER_EVENTS = table(
    "order_events",
    *_texts("message_id", "intent_id", "client_order_id", "kind", "status"),
    *_times("occurred_at"),
    column("stream_seq", BigInteger),
    column("detail", JSONB),
)
MARKS = table(
    "marks",
    *_texts("account_label", "symbol", "exchange_id"),
    *_numbers("quantity", "entry_price", "mark_price", "unrealized_pnl", "liquidation_price"),
    *_times("marked_at"),
)
FUNDING = table(
    "funding",
    *_texts("id", "account_label", "exchange_id", "symbol", "currency", "funding_id"),
    *_numbers("amount"),
    *_times("paid_at"),
)

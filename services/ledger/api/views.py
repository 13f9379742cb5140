"""Table rows → the read API's models."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

from services.ledger.api.schemas import (
    DayOut,
    FeeOut,
    FundingOut,
    HistoryOut,
    IntentOut,
    OrderOut,
    PositionOut,
    ProtectionFailedOut,
    TradeOut,
    TrailOut,
)
from services.ledger.domain.positions import ENTRY, unrealized

Row = Mapping[Any, Any]


def position(row: Row) -> PositionOut:
    """Return a position as a trader reads it; no entry price when flat."""
    quantity: Decimal = row["quantity"]
    side: Literal["long", "short", "flat"] = (
        "long" if quantity > 0 else "short" if quantity < 0 else "flat"
    )
    fees = [FeeOut(currency=c, amount=Decimal(a)) for c, a in sorted(row["fees"].items())]
    mark: Decimal | None = row["mark_price"]
    return PositionOut(
        account=row["account_label"],
        exchange=row["exchange_id"],
        symbol=row["symbol"],
        base=row["base"],
        quote=row["quote"],
        side=side,
        quantity=quantity,
        average_entry_price=row["average_price"] if quantity else None,
        realized_pnl=row["realized_pnl"],
        realized_pnl_currency=row["quote"],
        fees=fees,
        fills=row["fills"],
        opened_at=row["opened_at"],
        updated_at=row["updated_at"],
        mark_price=mark,
        unrealized_pnl=open_pnl(row),
        venue_unrealized_pnl=row["venue_unrealized_pnl"],
        venue_quantity=row["venue_quantity"],
        venue_entry_price=row["venue_entry_price"],
        liquidation_price=row["liquidation_price"],
        marked_at=row["marked_at"],
    )


def open_pnl(row: Row) -> Decimal | None:
    """Return a position's unrealized PnL at its last mark (None without a mark)."""
    mark: Decimal | None = row["mark_price"]
    if mark is None:
        return None
    return unrealized(row["quantity"], row["cost"], mark)


def trade(row: Row) -> TradeOut:
    return TradeOut(
        id=row["id"],
        time=row["filled_at"],
        account=row["account_label"],
        exchange=row["exchange_id"],
        symbol=row["symbol"],
        side=row["side"],
        price=row["price"],
        amount=row["amount"],
        fee=row["fee"],
        fee_currency=row["fee_currency"],
        trade_id=row["trade_id"],
        client_order_id=row["client_order_id"],
        exchange_order_id=row["exchange_order_id"],
        intent_id=row["intent_id"],
    )


def day(row: Row) -> DayOut:
    return DayOut(
        day=row["day"],
        account=row["account_label"],
        currency=row["currency"],
        realized_pnl=row["realized_pnl"],
        fees=row["fees"],
        volume=row["volume"],
        fills=row["fills"],
        funding=row["funding"],
    )


def funding(row: Row) -> FundingOut:
    return FundingOut(
        id=row["id"],
        time=row["paid_at"],
        account=row["account_label"],
        exchange=row["exchange_id"],
        symbol=row["symbol"],
        amount=row["amount"],
        currency=row["currency"],
        funding_id=row["funding_id"],
    )


def trail(
    intent_id: str,
    intent: Row | None,
    orders: Sequence[Row],
    history: Sequence[Row],
    fills: Sequence[Row],
) -> TrailOut:
    """Return one alert's trail: the intent, then each order (the entry, then the orders
    protecting it) with its history and fills, and the protections that could not be placed.
    """
    return TrailOut(
        intent_id=intent_id,
        intent=_intent(intent) if intent is not None else None,
        orders=[_order(row, history, fills) for row in orders],
        protection_failed=[_protection_failed(h) for h in history if h["kind"] == FAILED],
    )


FAILED = "protection.failed"


def _protection_failed(row: Row) -> ProtectionFailedOut:
    detail = row["detail"]
    return ProtectionFailedOut(
        client_order_id=row["client_order_id"],
        protection=str(detail.get("protection")),
        reason=detail.get("reason"),
        occurred_at=row["occurred_at"],
    )


def _intent(row: Row) -> IntentOut:
    fields = ("status", "symbol", "action", "received_at", "accepted_at", "rejected_at")
    texts = ("reject_reason", "reject_message")
    return IntentOut.model_validate({name: row[name] for name in fields + texts})


def _order(row: Row, history: Sequence[Row], fills: Sequence[Row]) -> OrderOut:
    order_id = row["client_order_id"]
    filled: Decimal = row["filled_amount"]
    average = ENTRY.divide(row["filled_notional"], filled) if filled else None
    return OrderOut(
        client_order_id=order_id,
        account=row["account_label"],
        exchange=row["exchange_id"],
        symbol=row["symbol"],
        side=row["side"],
        status=row["status"],
        exchange_order_id=row["exchange_order_id"],
        order_type=row["order_type"],
        amount=row["amount"],
        price=row["price"],
        filled_amount=filled,
        average_fill_price=average,
        reason=row["reason"],
        reason_code=row["reason_code"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        role=row["role"],
        parent_client_order_id=row["parent_client_order_id"],
        trigger_price=row["trigger_price"],
        reduce_only=row["reduce_only"],
        leverage=row["leverage"],
        history=[_history(h) for h in history if h["client_order_id"] == order_id],
        fills=[trade(f) for f in fills if f["client_order_id"] == order_id],
    )


def _history(row: Row) -> HistoryOut:
    return HistoryOut(
        kind=row["kind"], status=row["status"], occurred_at=row["occurred_at"], detail=row["detail"]
    )

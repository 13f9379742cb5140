"""What the read API returns: frozen models, decimals as exact strings, times in UTC."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Context, Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from services.ledger import examples

_EXACT = Context(prec=200)  # normalize() rounds to its context's precision: never here


def plain(value: Decimal) -> str:
    """Write a decimal without exponent or trailing zeros (``0.00000001``, ``18.28``, ``100``)."""
    return format(value.normalize(_EXACT), "f")


# Strings in JSON: a JSON number would lose digits in most clients.
Money = Annotated[Decimal, PlainSerializer(plain, return_type=str, when_used="json")]


class Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class FeeOut(Out):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.FEE]})
    currency: str
    amount: Money


class PositionOut(Out):
    """A net position in one symbol of one account."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.POSITION]})

    account: str
    exchange: str
    symbol: str
    base: str
    quote: str | None
    side: Literal["long", "short", "flat"]
    quantity: Money
    average_entry_price: Money | None
    realized_pnl: Money
    realized_pnl_currency: str | None
    fees: list[FeeOut]
    fills: int
    opened_at: datetime | None
    updated_at: datetime
    mark_price: Money | None = Field(
        description="The venue's latest mark price of the symbol; null before the first mark."
    )
    unrealized_pnl: Money | None = Field(
        description="(mark - entry) x quantity of this position as the ledger holds it, in the "
        "quote currency; null without a mark."
    )
    venue_unrealized_pnl: Money | None = Field(
        description="The venue's own unrealized PnL at the same mark (its quantity and entry)."
    )
    venue_quantity: Money | None = Field(description="The venue's position (signed) at the mark.")
    venue_entry_price: Money | None
    liquidation_price: Money | None
    marked_at: datetime | None


class PositionsOut(Out):
    model_config = ConfigDict(json_schema_extra={"examples": [{"positions": [examples.POSITION]}]})
    positions: list[PositionOut]


class TradeOut(Out):
    """One fill, as the exchange reported it."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.TRADE]})

    id: str
    time: datetime
    account: str
    exchange: str
    symbol: str
    side: str
    price: Money
    amount: Money
    fee: Money
    fee_currency: str | None
    trade_id: str
    client_order_id: str
    exchange_order_id: str
    intent_id: str


class TradesOut(Out):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"trades": [examples.TRADE], "next_cursor": None}]}
    )
    trades: list[TradeOut]
    next_cursor: str | None


class DayOut(Out):
    """Realized PnL and fees of one account, one UTC day, one currency."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.DAY]})

    day: date
    account: str
    currency: str
    realized_pnl: Money
    fees: Money
    volume: Money
    fills: int
    funding: Money = Field(description="Funding received (positive) or paid (negative).")


class PnlTotalOut(Out):
    """One account's PnL in one currency: the days asked for, and what is open now."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.PNL_TOTAL]})

    account: str
    currency: str
    realized_pnl: Money = Field(description="Realized over the days asked for, net of fees.")
    fees: Money = Field(description="Fees paid in this currency (already in realized_pnl).")
    funding: Money
    unrealized_pnl: Money = Field(description="Of the positions open now, at their last mark.")
    total: Money = Field(description="realized_pnl + funding + unrealized_pnl.")


class PnlOut(Out):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"days": [examples.DAY], "totals": [examples.PNL_TOTAL]}]}
    )
    days: list[DayOut]
    totals: list[PnlTotalOut]


class FundingOut(Out):
    """One funding payment of a perpetual position, as the venue booked it."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.FUNDING]})

    id: str
    time: datetime
    account: str
    exchange: str
    symbol: str
    amount: Money = Field(description="Negative: paid; positive: received.")
    currency: str
    funding_id: str


class FundingListOut(Out):
    model_config = ConfigDict(json_schema_extra={"examples": [{"funding": [examples.FUNDING]}]})
    funding: list[FundingOut]


class CancelRequestedOut(Out):
    """The cancel was handed to the executor; the order's trail shows the outcome."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.CANCEL_REQUESTED]})

    cancel_requested: bool
    intent_id: str
    client_order_id: str


class IntentOut(Out):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.INTENT]})
    status: Literal["accepted", "rejected", "refused"]
    symbol: str | None
    action: str | None
    received_at: datetime | None
    accepted_at: datetime | None
    rejected_at: datetime | None
    reject_reason: str | None
    reject_message: str | None


class HistoryOut(Out):
    """One thing that happened to an order."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.HISTORY]})

    kind: str
    status: str
    occurred_at: datetime
    detail: dict[str, str | int | bool | None]


class OrderOut(Out):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.ORDER]})
    client_order_id: str
    account: str
    exchange: str
    symbol: str
    side: str
    status: str
    exchange_order_id: str | None
    order_type: str | None
    amount: Money | None
    price: Money | None
    filled_amount: Money
    average_fill_price: Money | None
    reason: str | None
    reason_code: str | None
    created_at: datetime
    updated_at: datetime
    role: Literal["order", "take_profit", "stop_loss", "cancel"] = Field(
        description="order: the alert's; take_profit / stop_loss: protects parent_client_order_id."
    )
    parent_client_order_id: str | None
    trigger_price: Money | None
    reduce_only: bool
    leverage: Money | None
    history: list[HistoryOut]
    fills: list[TradeOut]


class ProtectionFailedOut(Out):
    """A protective order of a filled entry that could not be placed."""

    client_order_id: str = Field(description="The entry left without this protection.")
    protection: str
    reason: str | None
    occurred_at: datetime


class TrailOut(Out):
    """One alert from the webhook to its fills."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.TRAIL]})

    intent_id: str
    intent: IntentOut | None
    orders: list[OrderOut]
    protection_failed: list[ProtectionFailedOut]

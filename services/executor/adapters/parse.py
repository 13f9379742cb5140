"""ccxt's unified order and trade structures, parsed into the executor's frozen values."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from libs.common.messages import Fill, Side
from libs.common.messages.types import utcnow


@dataclass(frozen=True, slots=True)
class ExchangeOrder:
    """An order as the exchange reports it."""

    order_id: str
    client_order_id: str | None
    status: str | None
    side: Side
    amount: Decimal | None
    filled: Decimal
    price: Decimal | None
    fills: tuple[Fill, ...]
    actual_order_id: str | None = None
    """A triggered conditional order's own order, which holds its fills (Binance Algo)."""
    trigger_price: Decimal | None = None


def to_decimal(value: object) -> Decimal | None:
    """Return ``value`` as a Decimal (floats through their shortest repr), or None."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _time(ms: object) -> datetime:
    if isinstance(ms, int | float) and ms > 0:
        return datetime.fromtimestamp(ms / 1000, tz=UTC)
    return utcnow()


def _fee(trade: Mapping[str, Any]) -> tuple[Decimal, str | None]:
    fees = [trade.get("fee")] if trade.get("fee") else list(trade.get("fees") or [])
    total, currency = Decimal(0), None
    for fee in fees:
        if fee and (cost := to_decimal(fee.get("cost"))) is not None:
            total += abs(cost)
            currency = currency or fee.get("currency")
    return total, currency


def parse_trade(trade: Mapping[str, Any]) -> Fill | None:
    """Return the fill a ccxt trade describes, or None when it lacks an id, price or amount."""
    price, amount = to_decimal(trade.get("price")), to_decimal(trade.get("amount"))
    trade_id = trade.get("id")
    if not trade_id or price is None or price <= 0 or amount is None or amount <= 0:
        return None
    fee, currency = _fee(trade)
    return Fill(
        trade_id=str(trade_id)[:64],
        price=price,
        amount=amount,
        fee=fee,
        fee_currency=str(currency)[:16] if currency else None,
        filled_at=_time(trade.get("timestamp")),
    )


def parse_trades(trades: Iterable[Mapping[str, Any]]) -> tuple[Fill, ...]:
    """Return the fills of ccxt trades, without duplicates, in trade id order."""
    fills = {f.trade_id: f for t in trades if (f := parse_trade(t)) is not None}
    return tuple(fills[k] for k in sorted(fills))


def parse_order(order: Mapping[str, Any]) -> ExchangeOrder:
    """Return the order a ccxt order structure describes."""
    return ExchangeOrder(
        order_id=str(order.get("id") or ""),
        client_order_id=order.get("clientOrderId"),
        status=order.get("status"),
        side=Side(order.get("side") or "buy"),
        amount=to_decimal(order.get("amount")),
        filled=to_decimal(order.get("filled")) or Decimal(0),
        price=to_decimal(order.get("average") or order.get("price")),
        fills=parse_trades(order.get("trades") or []),
        actual_order_id=_actual_order_id(order),
        trigger_price=to_decimal(order.get("triggerPrice") or order.get("stopPrice")),
    )


def _actual_order_id(order: Mapping[str, Any]) -> str | None:
    info = order.get("info") or {}
    actual = info.get("actualOrderId") if isinstance(info, Mapping) else None
    return str(actual) if actual not in (None, "", 0, "0") else None

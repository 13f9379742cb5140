"""Sizing at execution: turn a `Sizing` rule into an order amount with live data. Pure.

Spot accounts: the position in a symbol is the base currency held (free + locked); equity is
what the account holds of the symbol's two currencies, valued in the quote currency. Percent
rules take percentages (``10`` is 10 %). Amounts are rounded down by the exchange's own
precision (ccxt's helpers, injected as `Rounding`) and checked against its minimums.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from libs.common.messages import OrderType, Side, SizingRule

HUNDRED = Decimal(100)
ZERO = Decimal(0)


class SizingRejectedError(Exception):
    """The order cannot be placed as asked; ``reason`` is for the trader."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class Rounding(Protocol):
    """The exchange's precision rules (ccxt's ``amount_to_precision``/``price_to_precision``)."""

    def amount(self, value: Decimal) -> Decimal: ...

    def price(self, value: Decimal) -> Decimal: ...


@dataclass(frozen=True, slots=True)
class MarketRules:
    """What the exchange says about a symbol."""

    symbol: str
    base: str
    quote: str
    min_amount: Decimal | None = None
    min_cost: Decimal | None = None


@dataclass(frozen=True, slots=True)
class SizingRequest:
    """The order as the router asked for it."""

    rule: SizingRule
    value: Decimal
    side: Side
    order_type: OrderType
    limit_price: Decimal | None = None
    reduce_only: bool = False
    max_base: Decimal | None = None
    max_quote: Decimal | None = None


@dataclass(frozen=True, slots=True)
class LiveData:
    """What the account and the market look like now; ``price`` is the last trade price."""

    price: Decimal | None = None
    base_total: Decimal = ZERO
    quote_total: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class SizedOrder:
    """What to send: ``side`` may differ from the request's for a target position."""

    side: Side
    amount: Decimal
    price: Decimal | None


def needs_balance(request: SizingRequest) -> bool:
    """Whether sizing needs the account's balance."""
    return request.reduce_only or request.rule in {
        SizingRule.PERCENT_EQUITY,
        SizingRule.PERCENT_POSITION,
        SizingRule.TARGET_POSITION,
    }


def needs_ticker(request: SizingRequest) -> bool:
    """Whether sizing needs the market price (a market order, or a limit without a price)."""
    return request.order_type is OrderType.MARKET or request.limit_price is None


def size_order(
    request: SizingRequest, live: LiveData, market: MarketRules, rounding: Rounding
) -> SizedOrder:
    """Return the order to send, or raise `SizingRejectedError` with the reason in words."""
    limit = rounding.price(request.limit_price) if request.limit_price is not None else None
    price = limit if limit is not None else live.price
    side, raw = _raw_amount(request, live, market, price)
    if request.reduce_only:
        raw = _reduce_only(side, raw, live, market)
    amount = rounding.amount(raw)
    _check_minimums(amount, raw, price, market)
    _check_caps(amount, price, request, market)
    return SizedOrder(side=side, amount=amount, price=limit)


def _raw_amount(
    request: SizingRequest, live: LiveData, market: MarketRules, price: Decimal | None
) -> tuple[Side, Decimal]:
    rule, value = request.rule, request.value
    if rule is SizingRule.BASE:
        return request.side, value
    if rule is SizingRule.PERCENT_POSITION:
        if live.base_total <= 0:
            raise SizingRejectedError(
                "nothing_to_close", f"You hold no {market.base}, so there is no position to size."
            )
        return request.side, live.base_total * value / HUNDRED
    if rule is SizingRule.TARGET_POSITION:
        return _towards_target(value, live, market)
    quote_amount = value
    if rule is SizingRule.PERCENT_EQUITY:
        equity = live.quote_total + live.base_total * _known(price, market)
        quote_amount = equity * value / HUNDRED
    return request.side, quote_amount / _known(price, market)


def _towards_target(target: Decimal, live: LiveData, market: MarketRules) -> tuple[Side, Decimal]:
    # A spot account cannot be short: a short target means "hold none".
    delta = max(target, ZERO) - live.base_total
    if delta == 0:
        raise SizingRejectedError(
            "nothing_to_do",
            f"Your {market.base} position is already at the target; no order was needed.",
        )
    return (Side.BUY, delta) if delta > 0 else (Side.SELL, -delta)


def _reduce_only(side: Side, raw: Decimal, live: LiveData, market: MarketRules) -> Decimal:
    if side is Side.BUY or live.base_total <= 0:
        raise SizingRejectedError(
            "nothing_to_close",
            f"Nothing to close: this reduce-only order would not reduce any {market.base} "
            "position you hold.",
        )
    return min(raw, live.base_total)


def _known(price: Decimal | None, market: MarketRules) -> Decimal:
    if price is None or price <= 0:
        raise SizingRejectedError(
            "no_price",
            f"The exchange gave no price for {market.symbol}, so the order cannot be sized.",
        )
    return price


def _check_minimums(
    amount: Decimal, raw: Decimal, price: Decimal | None, market: MarketRules
) -> None:
    minimum = market.min_amount
    if amount <= 0 or (minimum is not None and amount < minimum):
        least = f" of {_plain(minimum)} {market.base}" if minimum is not None else ""
        raise SizingRejectedError(
            "below_min_amount",
            f"The order size {_plain(raw)} {market.base} is below the exchange's minimum{least} "
            f"for {market.symbol}.",
        )
    if market.min_cost is not None and price is not None and amount * price < market.min_cost:
        raise SizingRejectedError(
            "below_min_notional",
            f"The order value {_plain(amount * price)} {market.quote} is below the exchange's "
            f"minimum of {_plain(market.min_cost)} {market.quote} for {market.symbol}.",
        )


def _check_caps(
    amount: Decimal, price: Decimal | None, request: SizingRequest, market: MarketRules
) -> None:
    """Refuse an order above the tenant's maximum size (refused, never silently shrunk)."""
    if request.max_base is not None and amount > request.max_base:
        raise SizingRejectedError(
            "max_order_size",
            f"The order size {_plain(amount)} {market.base} is above your maximum order size "
            f"of {_plain(request.max_base)} {market.base}.",
        )
    value = amount * _known(price, market) if request.max_quote is not None else None
    if request.max_quote is not None and value is not None and value > request.max_quote:
        raise SizingRejectedError(
            "max_order_size",
            f"The order value {_plain(value)} {market.quote} is above your maximum order value "
            f"of {_plain(request.max_quote)} {market.quote}.",
        )


def _plain(value: Decimal) -> str:
    """Format without an exponent, to at most 12 decimals, without trailing zeros."""
    text = format(value, ".12f").rstrip("0")
    return text.removesuffix(".") or "0"

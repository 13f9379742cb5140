"""Sizing at execution, what spot (`spot_sizing`) and futures (`contract_sizing`) share: the
request as the router sent it, the order to send, the refusal in words, and the checks every
sized order passes (the exchange's minimums, the tenant's caps). Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from libs.common.messages import OrderType, Side, SizingRule
from services.executor.domain import MarketRules

HUNDRED = Decimal(100)
ZERO = Decimal(0)


class SizingRejectedError(Exception):
    """The order cannot be placed as asked; ``reason`` is for the trader.

    ``written_off``: coins the wallet no longer held, found while sizing (from
    ``position_before``); they leave the strategy position even though no order is placed.
    """

    def __init__(
        self,
        code: str,
        reason: str,
        *,
        written_off: Decimal = ZERO,
        position_before: Decimal | None = None,
    ) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.written_off = written_off
        self.position_before = position_before


@dataclass(frozen=True, slots=True)
class SizingRequest:
    """The order as the router asked for it.

    ``expected_position``: TradingView's position of the strategy after this alert, when the
    alert said it; with ``heal``, the order is sized to reach it instead.
    """

    rule: SizingRule
    value: Decimal
    side: Side
    order_type: OrderType
    limit_price: Decimal | None = None
    reduce_only: bool = False
    max_base: Decimal | None = None
    max_quote: Decimal | None = None
    expected_position: Decimal | None = None
    heal: bool = False


@dataclass(frozen=True, slots=True)
class SizedOrder:
    """What to send: ``side`` may differ from the request's (a target position, healing).

    ``position_before``: the strategy position sizing started from (before any write-off),
    when sizing read it; ``healed``: sized to reach ``expected_position`` instead of by its rule.
    """

    side: Side
    amount: Decimal
    price: Decimal | None
    notes: tuple[str, ...] = ()
    position_before: Decimal | None = None
    written_off: Decimal = ZERO
    healed: bool = False


def known_price(price: Decimal | None, market: MarketRules) -> Decimal:
    """Return the price, or refuse an order that cannot be sized without one."""
    if price is None or price <= 0:
        raise SizingRejectedError(
            "no_price",
            f"The exchange gave no price for {market.symbol}, so the order cannot be sized.",
        )
    return price


def check_minimums(
    amount: Decimal, raw: Decimal, price: Decimal | None, market: MarketRules
) -> None:
    minimum = market.min_amount
    if amount <= 0 or (minimum is not None and amount < minimum):
        least = f" of {plain(minimum)} {market.base}" if minimum is not None else ""
        raise SizingRejectedError(
            "below_min_amount",
            f"The order size {plain(raw)} {market.base} is below the exchange's minimum{least} "
            f"for {market.symbol}.",
        )
    if market.min_cost is not None and price is not None and amount * price < market.min_cost:
        raise SizingRejectedError(
            "below_min_notional",
            f"The order value {plain(amount * price)} {market.quote} is below the exchange's "
            f"minimum of {plain(market.min_cost)} {market.quote} for {market.symbol}.",
        )


def check_caps(
    amount: Decimal, price: Decimal | None, request: SizingRequest, market: MarketRules
) -> None:
    """Refuse an order above the tenant's maximum size (refused, never silently shrunk)."""
    if request.max_base is not None and amount > request.max_base:
        raise SizingRejectedError(
            "max_order_size",
            f"The order size {plain(amount)} {market.base} is above your maximum order size "
            f"of {plain(request.max_base)} {market.base}.",
        )
    value = amount * known_price(price, market) if request.max_quote is not None else None
    if request.max_quote is not None and value is not None and value > request.max_quote:
        raise SizingRejectedError(
            "max_order_size",
            f"The order value {plain(value)} {market.quote} is above your maximum order value "
            f"of {plain(request.max_quote)} {market.quote}.",
        )


def plain(value: Decimal) -> str:
    """Format without an exponent, to at most 12 decimals, without trailing zeros."""
    text = format(value, ".12f").rstrip("0")
    return text.removesuffix(".") or "0"

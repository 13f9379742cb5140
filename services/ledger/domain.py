"""Position arithmetic: how one fill moves a position, its entry price and its realized PnL.

Pure functions over `Decimal`, no I/O. Netting: fills in the position's direction add to it at
a volume-weighted average entry; fills against it close it first, realizing
``closed * (price - entry)`` (negated for a short), and whatever is left over opens a position
the other way at the fill's price. A fee paid in the quote currency is a cost in the same
currency as the PnL, so it is subtracted from realized PnL; a fee in the base or any other
currency is kept per currency, never converted (we have no trustworthy rate to convert at).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal, DivisionByZero, InvalidOperation, Overflow

from libs.common.messages import Side

_TRAPS = [InvalidOperation, DivisionByZero, Overflow]
# Sums and products stay exact: inputs are bounded (see `codec`) far below 200 digits.
EXACT = Context(prec=200, rounding=ROUND_HALF_EVEN, traps=_TRAPS)
# A division cannot always be exact: an average price keeps 34 significant digits (IEEE
# decimal128), rounded the same way on every replay.
ENTRY = Context(prec=34, rounding=ROUND_HALF_EVEN, traps=_TRAPS)
ZERO = Decimal(0)
UNKNOWN_CURRENCY = "UNKNOWN"


@dataclass(frozen=True, slots=True)
class Market:
    """The two currencies of a unified symbol; ``quote`` is None when the symbol has none."""

    base: str
    quote: str | None


def market_of(symbol: str) -> Market:
    """Split a ccxt unified symbol: ``BTC/USDT`` and ``BTC/USDT:USDT`` → BTC, USDT."""
    pair = symbol.split(":", 1)[0]
    base, slash, quote = pair.partition("/")
    if not slash or not base or not quote:
        return Market(base=pair.upper(), quote=None)
    return Market(base=base.upper(), quote=quote.upper())


@dataclass(frozen=True, slots=True)
class Trade:
    """What a fill contributes to a position."""

    side: Side
    price: Decimal
    amount: Decimal
    fee: Decimal
    fee_currency: str | None
    at: datetime

    @property
    def signed_amount(self) -> Decimal:
        return self.amount if self.side is Side.BUY else -self.amount

    def notional_in(self, ctx: Context) -> Decimal:
        """Return price * amount, in the quote currency."""
        return ctx.multiply(self.price, self.amount)

    @property
    def fee_key(self) -> str:
        """The currency the fee is booked in (upper case, ``UNKNOWN`` when not reported)."""
        return self.fee_currency.upper() if self.fee_currency else UNKNOWN_CURRENCY


@dataclass(frozen=True, slots=True)
class Position:
    """A net position: positive quantity is long, negative short, zero flat."""

    quantity: Decimal = ZERO
    average_price: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    fees: Mapping[str, Decimal] = field(default_factory=dict)
    opened_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class FillOutcome:
    """The position after a fill and what the fill changed, for the daily PnL."""

    position: Position
    realized_delta: Decimal  # in the quote currency, quote fee already subtracted
    quote_fee: Decimal  # the part of realized_delta that is the fee


def apply_fill(position: Position, trade: Trade, market: Market) -> FillOutcome:
    """Return ``position`` after ``trade``, netting it against what is open."""
    quantity, average, pnl, opened_at = _net(position, trade, EXACT)
    quote_fee = trade.fee if trade.fee and trade.fee_key == market.quote else ZERO
    realized_delta = EXACT.subtract(pnl, quote_fee)
    updated = Position(
        quantity=quantity,
        average_price=average,
        realized_pnl=EXACT.add(position.realized_pnl, realized_delta),
        fees=add_fee(position.fees, trade, EXACT),
        opened_at=opened_at,
        updated_at=trade.at,
    )
    return FillOutcome(updated, realized_delta, quote_fee)


def _net(
    position: Position, trade: Trade, ctx: Context
) -> tuple[Decimal, Decimal, Decimal, datetime | None]:
    """Return (quantity, average entry, realized PnL before fees, opened_at) after the trade."""
    held, signed = position.quantity, trade.signed_amount
    new_quantity = ctx.add(held, signed)
    if held == 0 or (held > 0) == (signed > 0):
        cost = ctx.add(ctx.multiply(abs(held), position.average_price), trade.notional_in(ctx))
        opened_at = position.opened_at if held != 0 else trade.at
        return new_quantity, ENTRY.divide(cost, abs(new_quantity)), ZERO, opened_at
    closed = min(abs(held), trade.amount)
    gain_per_unit = ctx.subtract(trade.price, position.average_price)
    pnl = ctx.multiply(ctx.multiply(closed, gain_per_unit), Decimal(1 if held > 0 else -1))
    if new_quantity == 0:
        return new_quantity, ZERO, pnl, None
    if (new_quantity > 0) == (held > 0):
        return new_quantity, position.average_price, pnl, position.opened_at
    return new_quantity, trade.price, pnl, trade.at  # flipped: the rest opened at this price


def add_fee(fees: Mapping[str, Decimal], trade: Trade, ctx: Context) -> dict[str, Decimal]:
    """Return ``fees`` with the trade's fee added to its own currency."""
    totals = dict(fees)
    if trade.fee:
        totals[trade.fee_key] = ctx.add(totals.get(trade.fee_key, ZERO), trade.fee)
    return totals


def notional(price: Decimal, amount: Decimal) -> Decimal:
    """Return price * amount in the quote currency."""
    return EXACT.multiply(price, amount)

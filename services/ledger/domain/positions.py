"""Position arithmetic: how one fill moves a position, its entry price and its realized PnL.

Pure functions over `Decimal`, no I/O. Netting: fills in the position's direction add to it at
a volume-weighted average entry; fills against it close it first, realizing
``closed * (price - entry)`` (negated for a short), and whatever is left over opens a position
the other way at the fill's price.

Fees. A fee charged in the base currency leaves the wallet with the coins: the position moves by
the fill net of it (`libs.common.positions`, the executor's rule too, so the ledger's quantity is
what a ``close`` sells), at the price actually paid per coin kept (a buy of 0.001 BTC for 60
USDT whose fee was 0.000001 BTC holds 0.000999 BTC at 60,060.06): the fee is in the entry price
and so in realized PnL. A fee paid in the quote currency is subtracted from realized PnL. Every
fee is also listed per currency; a fee in any other currency is never converted (we have no
trustworthy rate to convert at).

A write-off (coins the wallet no longer held, sold or moved outside Sparky) takes coins off the
position at its entry price, realizing nothing: what they were sold for is not known.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal, DivisionByZero, InvalidOperation, Overflow

from libs.common.messages import Side
from libs.common.positions import held_change

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

    def signed_change(self, market: Market) -> Decimal:
        """Return what the trade adds to the position, net of a fee in the base currency."""
        return held_change(self.side, self.amount, self.fee, self.fee_currency, market.base)

    def notional_in(self, ctx: Context) -> Decimal:
        """Return price * amount, in the quote currency."""
        return ctx.multiply(self.price, self.amount)

    @property
    def fee_key(self) -> str:
        """The currency the fee is booked in (upper case, ``UNKNOWN`` when not reported)."""
        return self.fee_currency.upper() if self.fee_currency else UNKNOWN_CURRENCY


@dataclass(frozen=True, slots=True)
class Position:
    """A net position: positive quantity is long, negative short, zero flat.

    ``cost`` is exact: the quote currency paid for what is held (received, for a short), so a
    round trip to flat realizes exactly what it sold for less what it paid, however the entry
    price rounds. ``average_price`` is ``cost / |quantity|`` at 34 significant digits.
    """

    quantity: Decimal = ZERO
    average_price: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    fees: Mapping[str, Decimal] = field(default_factory=dict)
    opened_at: datetime | None = None
    updated_at: datetime | None = None
    cost: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class FillOutcome:
    """The position after a fill and what the fill changed, for the daily PnL."""

    position: Position
    realized_delta: Decimal  # in the quote currency, quote fee already subtracted
    quote_fee: Decimal  # the part of realized_delta that is the fee


@dataclass(frozen=True, slots=True)
class _Netted:
    quantity: Decimal
    cost: Decimal
    pnl: Decimal  # realized, before quote fees
    opened_at: datetime | None


def apply_fill(position: Position, trade: Trade, market: Market) -> FillOutcome:
    """Return ``position`` after ``trade``, netting it against what is open."""
    netted = _net(position, trade, market, EXACT)
    quote_fee = trade.fee if trade.fee and trade.fee_key == market.quote else ZERO
    realized_delta = EXACT.subtract(netted.pnl, quote_fee)
    updated = Position(
        quantity=netted.quantity,
        average_price=_average(netted.cost, netted.quantity),
        realized_pnl=EXACT.add(position.realized_pnl, realized_delta),
        fees=add_fee(position.fees, trade, EXACT),
        opened_at=netted.opened_at,
        updated_at=trade.at,
        cost=netted.cost,
    )
    return FillOutcome(updated, realized_delta, quote_fee)


def _net(position: Position, trade: Trade, market: Market, ctx: Context) -> _Netted:
    """Net the trade against the position. The trade moves it by its change net of a base
    fee; its quote value (price * amount) is the cost of what it opens, or what closing
    realizes against the share of the cost it closes.
    """
    held, signed = position.quantity, trade.signed_change(market)
    if signed == 0:  # the whole fill went to the fee
        return _Netted(held, position.cost, ZERO, position.opened_at)
    new_quantity, notional = ctx.add(held, signed), trade.notional_in(ctx)
    if held == 0 or (held > 0) == (signed > 0):
        opened_at = position.opened_at if held != 0 else trade.at
        return _Netted(new_quantity, ctx.add(position.cost, notional), ZERO, opened_at)
    closed = min(abs(held), abs(signed))
    value = notional if closed == abs(signed) else _share(notional, closed, abs(signed))
    removed = position.cost if closed == abs(held) else _share(position.cost, closed, abs(held))
    pnl = ctx.multiply(ctx.subtract(value, removed), Decimal(1 if held > 0 else -1))
    if new_quantity == 0:
        return _Netted(new_quantity, ZERO, pnl, None)
    if (new_quantity > 0) == (held > 0):
        return _Netted(new_quantity, ctx.subtract(position.cost, removed), pnl, position.opened_at)
    # Flipped: the rest of the trade opens the other way, at its own price.
    return _Netted(new_quantity, ctx.subtract(notional, value), pnl, trade.at)


def _share(total: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    """Return ``total * part / whole`` (rounded as an entry price is)."""
    return ENTRY.divide(EXACT.multiply(total, part), whole)


def _average(cost: Decimal, quantity: Decimal) -> Decimal:
    return ENTRY.divide(cost, abs(quantity)) if quantity else ZERO


def write_off(position: Position, amount: Decimal, at: datetime) -> Position:
    """Return ``position`` less ``amount`` coins that left the wallet outside Sparky: taken
    off with their share of the cost (nothing realized), never past flat.
    """
    if position.quantity <= 0 or amount <= 0:
        return position
    if amount >= position.quantity:
        return replace(
            position, quantity=ZERO, average_price=ZERO, cost=ZERO, opened_at=None, updated_at=at
        )
    quantity = EXACT.subtract(position.quantity, amount)
    cost = EXACT.subtract(position.cost, _share(position.cost, amount, position.quantity))
    return replace(
        position,
        quantity=quantity,
        cost=cost,
        average_price=_average(cost, quantity),
        updated_at=at,
    )


def add_fee(fees: Mapping[str, Decimal], trade: Trade, ctx: Context) -> dict[str, Decimal]:
    """Return ``fees`` with the trade's fee added to its own currency."""
    totals = dict(fees)
    if trade.fee:
        totals[trade.fee_key] = ctx.add(totals.get(trade.fee_key, ZERO), trade.fee)
    return totals


def notional(price: Decimal, amount: Decimal) -> Decimal:
    """Return price * amount in the quote currency."""
    return EXACT.multiply(price, amount)


def unrealized(quantity: Decimal, cost: Decimal, mark: Decimal) -> Decimal:
    """Return what closing the position at ``mark`` would realize, before fees.

    ``(mark - entry) * quantity``, with the entry's exact cost rather than its rounded
    average: ``mark * quantity - cost`` long, ``cost - mark * |quantity|`` short.
    """
    if quantity == 0:
        return ZERO
    value = EXACT.multiply(mark, quantity)
    return EXACT.subtract(value, cost) if quantity > 0 else EXACT.add(value, cost)

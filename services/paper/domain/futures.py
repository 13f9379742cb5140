"""Pure futures decisions: positions, margin, triggers, liquidation and funding. No I/O.

Quantities are in the base asset (contract size 1), money in USDT, both `Decimal`. A position
is one signed amount per (account, symbol): one-way mode, as the paper exchange offers only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from services.paper.futures import errors as ferrors
from services.paper.futures.models import (
    AlgoOrder,
    FuturesType,
    MarginType,
    Position,
)
from services.paper.models import ZERO, Side

_EIGHT = Decimal("0.00000001")
_HUNDRED = Decimal(100)
MIN_CALLBACK_RATE = Decimal("0.1")
MAX_CALLBACK_RATE = Decimal(10)


@dataclass(frozen=True, slots=True)
class FuturesFees:
    """Fee rates, slippage, the maintenance margin rate and the funding rate."""

    taker: Decimal = Decimal("0.0005")
    maker: Decimal = Decimal("0.0002")
    slippage_bps: Decimal = ZERO
    maintenance_rate: Decimal = Decimal("0.004")
    funding_rate: Decimal = Decimal("0.0001")


def round8(value: Decimal) -> Decimal:
    """Round to 8 decimals (half up), the precision of USDT amounts."""
    return value.quantize(_EIGHT, rounding=ROUND_HALF_UP)


def signed(side: Side, qty: Decimal) -> Decimal:
    """Return ``qty`` with the sign of its effect on a position."""
    return qty if side is Side.BUY else -qty


def _sign(value: Decimal) -> int:
    return (value > 0) - (value < 0)


def increasing_qty(position: Position, side: Side, qty: Decimal) -> Decimal:
    """Return the part of an order that opens or adds to exposure (after any closing part)."""
    delta = signed(side, qty)
    if position.amount == 0 or _sign(position.amount) == _sign(delta):
        return qty
    return max(qty - abs(position.amount), ZERO)


def check_reduce_only(position: Position, side: Side, qty: Decimal) -> None:
    """Refuse a reduce-only order that would open, add to or flip the position (-2022)."""
    delta = signed(side, qty)
    if position.amount == 0 or _sign(position.amount) == _sign(delta):
        raise ferrors.reduce_only_rejected()
    if qty > abs(position.amount):
        raise ferrors.reduce_only_rejected()


def closing_side(position: Position) -> Side:
    """Return the side that reduces the position."""
    return Side.SELL if position.amount > 0 else Side.BUY


@dataclass(frozen=True, slots=True)
class Applied:
    """A position after a fill, and the PnL the fill realized."""

    position: Position
    realized: Decimal


def apply_fill(position: Position, side: Side, qty: Decimal, price: Decimal, now: int) -> Applied:
    """Move ``position`` by a fill: average the entry on increase, realize PnL on reduce."""
    amount, delta = position.amount, signed(side, qty)
    new_amount = amount + delta
    if amount == 0 or _sign(amount) == _sign(delta):
        entry = round8((abs(amount) * position.entry_price + qty * price) / abs(new_amount))
        margin = position.isolated_margin + _margin(position, qty * price)
        return Applied(_moved(position, new_amount, entry, margin, now), ZERO)
    closed = min(qty, abs(amount))
    realized = round8(closed * (price - position.entry_price) * _sign(amount))
    if new_amount == 0:
        return Applied(_moved(position, ZERO, ZERO, ZERO, now), realized)
    if _sign(new_amount) == _sign(amount):
        kept = round8(position.isolated_margin * abs(new_amount) / abs(amount))
        return Applied(_moved(position, new_amount, position.entry_price, kept, now), realized)
    margin = _margin(position, abs(new_amount) * price)
    return Applied(_moved(position, new_amount, price, margin, now), realized)


def _margin(position: Position, notional: Decimal) -> Decimal:
    if position.margin_type is MarginType.ISOLATED:
        return round8(notional / position.leverage)
    return ZERO


def _moved(p: Position, amount: Decimal, entry: Decimal, margin: Decimal, now: int) -> Position:
    return replace(p, amount=amount, entry_price=entry, isolated_margin=margin, updated_ms=now)


def unrealized(position: Position, mark: Decimal) -> Decimal:
    """Return the position's unrealized PnL at ``mark``."""
    return round8(position.amount * (mark - position.entry_price))


def initial_margin(position: Position, mark: Decimal) -> Decimal:
    """Return the margin the position holds: isolated margin, or notional / leverage."""
    if position.margin_type is MarginType.ISOLATED:
        return position.isolated_margin
    return round8(abs(position.amount) * mark / position.leverage)


@dataclass(frozen=True, slots=True)
class Exposure:
    """What an account's wallet carries: positions at their marks and resting orders."""

    wallet: Decimal
    positions: tuple[Position, ...]
    marks: Mapping[str, Decimal]
    order_margin: Decimal = ZERO

    def cross_unrealized(self) -> Decimal:
        """Return the unrealized PnL of the cross positions (it counts as margin)."""
        return sum(
            (
                unrealized(p, self.marks[p.symbol])
                for p in self.positions
                if p.margin_type is MarginType.CROSSED and p.amount
            ),
            ZERO,
        )

    def position_margin(self) -> Decimal:
        """Return the initial margin of every open position."""
        return sum(
            (initial_margin(p, self.marks[p.symbol]) for p in self.positions if p.amount), ZERO
        )

    def available(self) -> Decimal:
        """Return what new exposure may use: wallet + cross PnL - margins held."""
        held = self.position_margin() + self.order_margin
        return round8(self.wallet + self.cross_unrealized() - held)

    def cross_wallet(self) -> Decimal:
        """Return the wallet less what isolated positions hold."""
        isolated = sum(
            (p.isolated_margin for p in self.positions if p.margin_type is MarginType.ISOLATED),
            ZERO,
        )
        return self.wallet - isolated


def check_margin(
    exposure: Exposure, position: Position, side: Side, qty: Decimal, price: Decimal
) -> None:
    """Refuse an order whose added exposure needs more initial margin than is available."""
    added = increasing_qty(position, side, qty)
    if not added:
        return
    freed = ZERO  # an order through zero first closes the position, releasing its margin
    if added < qty:
        freed = initial_margin(position, exposure.marks.get(position.symbol, price))
    if round8(added * price / position.leverage) > exposure.available() + freed:
        raise ferrors.margin_insufficient()


def liquidation_price(position: Position, cross_wallet: Decimal, rate: Decimal) -> Decimal:
    """Return the mark at which the position's margin falls to the maintenance margin.

    Isolated positions are backed by their own margin, cross ones by the cross wallet (the
    other cross positions' PnL is left out). Zero when there is no position or no such price.
    """
    if position.amount == 0:
        return ZERO
    margin = (
        position.isolated_margin if position.margin_type is MarginType.ISOLATED else cross_wallet
    )
    qty, entry = abs(position.amount), position.entry_price
    if position.amount > 0:
        price = (qty * entry - margin) / (qty * (1 - rate))
    else:
        price = (qty * entry + margin) / (qty * (1 + rate))
    return max(round8(price), ZERO)


def is_liquidated(position: Position, liquidation: Decimal, mark: Decimal) -> bool:
    """Tell whether ``mark`` has crossed the position's liquidation price."""
    if position.amount > 0:
        return liquidation > 0 and mark <= liquidation
    if position.amount < 0:
        return mark >= liquidation
    return False


def would_trigger(kind: FuturesType, side: Side, trigger: Decimal, price: Decimal) -> bool:
    """Tell whether a stop or take-profit at ``trigger`` fires at ``price``.

    Stops buy on a rise and sell on a fall; take-profits buy on a fall and sell on a rise.
    """
    rising = kind in {FuturesType.STOP, FuturesType.STOP_MARKET}
    if (side is Side.BUY) == rising:
        return price >= trigger
    return price <= trigger


def check_callback_rate(rate: Decimal) -> None:
    """Refuse a trailing callback rate outside 0.1-10 (%)."""
    if not MIN_CALLBACK_RATE <= rate <= MAX_CALLBACK_RATE:
        raise ferrors.callback_rate_invalid()


def check_activation(side: Side, activate: Decimal, price: Decimal) -> None:
    """Refuse a trailing stop whose activation price is already passed (-2021)."""
    passed = activate <= price if side is Side.SELL else activate >= price
    if passed:
        raise ferrors.would_trigger()


@dataclass(frozen=True, slots=True)
class Trail:
    """A trailing stop after seeing a price: its best price, and whether it fires."""

    best: Decimal
    fires: bool


def trail(order: AlgoOrder, price: Decimal) -> Trail:
    """Follow ``price``: activate, move the best price, fire on a ``callback_rate`` pull-back."""
    best = order.best_price
    if not best:
        activated = (
            not order.activate_price
            or (order.side is Side.SELL and price >= order.activate_price)
            or (order.side is Side.BUY and price <= order.activate_price)
        )
        if not activated:
            return Trail(ZERO, fires=False)
        best = price
    pull = order.callback_rate / _HUNDRED
    if order.side is Side.SELL:
        best = max(best, price)
        return Trail(best, fires=price <= best * (1 - pull))
    best = min(best, price)
    return Trail(best, fires=price >= best * (1 + pull))


def funding_payment(position: Position, mark: Decimal, rate: Decimal) -> Decimal:
    """Return what the position receives (negative: pays) at a funding time."""
    return round8(-position.amount * mark * rate)


def order_margin(orders: Iterable[tuple[Decimal, Decimal, int]]) -> Decimal:
    """Return the initial margin resting orders hold: (qty, price, leverage) each."""
    return sum((round8(qty * price / leverage) for qty, price, leverage in orders), ZERO)


def check_leverage(leverage: int, maximum: int) -> None:
    """Refuse a leverage outside 1..maximum, as Binance does (-4028)."""
    if not 1 <= leverage <= maximum:
        raise ferrors.invalid_leverage(leverage)

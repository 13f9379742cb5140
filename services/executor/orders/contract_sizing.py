"""Sizing at execution on a futures account (USDⓈ-margined perpetuals). Pure.

A futures account holds one signed position per symbol (one-way mode): positive long, negative
short. As on spot, Sparky trades only what the **strategy** holds: its position is the sum of
Sparky's own fills (`libs.common.positions`), never the account's whole position, and every
order that reduces it (close, reduce-only, percent of the position, a target position) is sized
against it. The venue's position caps it: when the venue holds less in the strategy's direction
than the strategy bought (a liquidation, a hand-closed position), the missing part is **written
off** the strategy position (reported as ``position.drift``) and the order is sized to what is
there.

Opening orders are sized by their rule: ``base`` (contracts in the base currency), ``quote``
(notional value in the quote currency), ``percent_equity`` (that share of the account's margin
balance as notional: leverage changes the margin an order takes, not its size). Selling from
flat or from a short opens or adds to a short. Amounts are rounded down by the exchange's
precision and checked against its minimums and the tenant's caps
(`services.executor.orders.sizing`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from libs.common.messages import Side, SizingRule
from services.executor.domain import MarketRules, Rounding
from services.executor.orders.sizing import (
    HUNDRED,
    ZERO,
    SizedOrder,
    SizingRejectedError,
    SizingRequest,
    check_caps,
    check_minimums,
    plain,
)


@dataclass(frozen=True, slots=True)
class ContractLive:
    """What the account and market look like now: ``equity`` the margin balance in the quote
    (settle) currency, ``venue_position`` the account's signed position in the symbol,
    ``position`` the strategy's."""

    price: Decimal | None = None
    equity: Decimal = ZERO
    position: Decimal = ZERO
    venue_position: Decimal = ZERO


def _sign(value: Decimal) -> int:
    return (value > 0) - (value < 0)


def effective_position(live: ContractLive) -> Decimal:
    """Return the strategy position the venue still holds: in the strategy's direction and
    never more than the venue's position there."""
    held, sign = live.position, _sign(live.position)
    if sign == 0:
        return ZERO
    there = max(ZERO, live.venue_position * sign)
    return sign * min(abs(held), there)


def size_contract_order(
    request: SizingRequest, live: ContractLive, market: MarketRules, rounding: Rounding
) -> SizedOrder:
    """Return the order to send, or raise `SizingRejectedError` with the reason in words."""
    limit = rounding.price(request.limit_price) if request.limit_price is not None else None
    price = limit if limit is not None else live.price
    held = effective_position(live)
    written_off = live.position - held
    notes = [_written_off_note(live, held, market)] if written_off else []
    try:
        side, raw, healed = _side_and_amount(request, live, held, (market, price), notes)
        amount = rounding.amount(raw)
        check_minimums(amount, raw, price, market)
        check_caps(amount, price, request, market)  # the router caps opening orders only
    except SizingRejectedError as refused:
        if not written_off:
            raise
        raise SizingRejectedError(
            refused.code,
            " ".join([*notes, refused.reason]),
            written_off=written_off,
            position_before=live.position,
        ) from refused
    return SizedOrder(
        side=side,
        amount=amount,
        price=limit,
        notes=tuple(notes),
        position_before=live.position,
        written_off=written_off,
        healed=healed,
    )


def _reduces(side: Side, held: Decimal) -> bool:
    return (side is Side.SELL and held > 0) or (side is Side.BUY and held < 0)


def _side_and_amount(
    request: SizingRequest,
    live: ContractLive,
    held: Decimal,
    priced: tuple[MarketRules, Decimal | None],
    notes: list[str],
) -> tuple[Side, Decimal, bool]:
    market, price = priced
    rule, value = request.rule, request.value
    if rule is SizingRule.TARGET_POSITION:
        return (*_towards(value, held, market), False)
    if rule is SizingRule.PERCENT_POSITION or request.reduce_only:
        side = request.side
        if not _reduces(side, held):
            raise _nothing_to_close(side, market)
        raw = (
            abs(held) * value / HUNDRED
            if rule is SizingRule.PERCENT_POSITION
            else _opening(request, live, market, price)
        )
        if raw > abs(held):
            notes.append(
                f"Closed the {plain(abs(held))} {market.base} this strategy holds, not the "
                f"{plain(raw)} asked: a reduce-only order never opens the other way."
            )
            raw = abs(held)
        return side, raw, False
    raw = _opening(request, live, market, price)
    healed = _heal(request, held, raw, market, notes)
    if healed is not None:
        return healed[0], healed[1], True
    return request.side, raw, False


def _opening(
    request: SizingRequest, live: ContractLive, market: MarketRules, price: Decimal | None
) -> Decimal:
    rule, value = request.rule, request.value
    if rule is SizingRule.BASE:
        return value
    if rule is SizingRule.PERCENT_EQUITY:
        return live.equity * value / HUNDRED / _known(price, market)
    return value / _known(price, market)  # quote: the notional value


def _towards(target: Decimal, held: Decimal, market: MarketRules) -> tuple[Side, Decimal]:
    delta = target - held
    if delta == 0:
        raise SizingRejectedError(
            "nothing_to_do",
            f"This strategy's {market.base} position is already at the target of "
            f"{plain(target)}; no order was needed.",
        )
    return (Side.BUY, delta) if delta > 0 else (Side.SELL, -delta)


def _heal(
    request: SizingRequest,
    held: Decimal,
    raw: Decimal,
    market: MarketRules,
    notes: list[str],
) -> tuple[Side, Decimal] | None:
    expected = request.expected_position
    if not request.heal or expected is None:
        return None
    after = held + (raw if request.side is Side.BUY else -raw)
    if abs(expected - after) <= (market.amount_step or ZERO):
        return None
    notes.append(
        f"Sized to reach TradingView's position of {plain(expected)} {market.base} (healing "
        f"is on): the alert's own order would have left the strategy at {plain(after)}."
    )
    return _towards(expected, held, market)


def _written_off_note(live: ContractLive, held: Decimal, market: MarketRules) -> str:
    return (
        f"The account's {market.symbol} position is {plain(live.venue_position)} "
        f"{market.base}, not the {plain(live.position)} this strategy opened (closed outside "
        f"Sparky or liquidated): {plain(abs(live.position - held))} {market.base} are written "
        "off the strategy's position."
    )


def _nothing_to_close(side: Side, market: MarketRules) -> SizingRejectedError:
    held = "short" if side is Side.BUY else "long"
    return SizingRejectedError(
        "nothing_to_close",
        f"This strategy holds no {held} {market.base} position on this account, so there is "
        "nothing to close: Sparky closes only what its own orders opened.",
    )


def _known(price: Decimal | None, market: MarketRules) -> Decimal:
    if price is None or price <= 0:
        raise SizingRejectedError(
            "no_price",
            f"The exchange gave no price for {market.symbol}, so the order cannot be sized.",
        )
    return price

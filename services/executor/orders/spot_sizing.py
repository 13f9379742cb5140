"""Sizing a spot order: turn a `Sizing` rule into an order amount with live data. Pure.

Sparky trades only what the strategy holds: the **strategy position** is the sum of Sparky's
own fills in the symbol on the account (net of fees charged in the coin,
`libs.common.positions`), never the wallet. A close, a sell without a quantity, a percent of
the position and a target position are sized against it, and no sell is ever larger than it:
coins held outside Sparky are never touched. A sell is also never larger than the coins that
are free (not locked in open orders); when it is cut down, ``notes`` say why in words.

When the wallet holds less of the coin in total than the strategy bought (someone sold or moved
coins by hand), the missing part is **written off** the strategy position (``written_off``,
reported as a ``position.drift``) and the order is sized to what is there.

Equity (percent of equity) is what the account holds of the symbol's two currencies, valued in
the quote currency. Percent rules take percentages (``10`` is 10 %). Amounts are rounded down
by the exchange's own precision (ccxt's helpers, injected as `Rounding`) and checked against
its minimums.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from libs.common.messages import OrderType, Side, SizingRule
from services.executor.domain import MarketRules, Rounding
from services.executor.orders.sizing import (
    HUNDRED,
    ZERO,
    SizedOrder,
    SizingRejectedError,
    SizingRequest,
    check_caps,
    check_minimums,
    known_price,
    plain,
)

_AGAINST_POSITION = frozenset({SizingRule.PERCENT_POSITION, SizingRule.TARGET_POSITION})


@dataclass(frozen=True, slots=True)
class LiveData:
    """What the account, the market and the strategy look like now.

    ``price`` is the last trade price; ``base_free`` / ``base_total`` the coin not locked in
    orders / all of it; ``position`` the strategy position (Sparky's own fills), ``coin_fees``
    the fees the exchange took in the coin since it was last flat.
    """

    price: Decimal | None = None
    base_free: Decimal = ZERO
    base_total: Decimal = ZERO
    quote_total: Decimal = ZERO
    position: Decimal = ZERO
    coin_fees: Decimal = ZERO


@dataclass(slots=True)
class _Draft:
    side: Side
    raw: Decimal
    held: Decimal
    notes: list[str] = field(default_factory=list)


def needs_position(request: SizingRequest) -> bool:
    """Whether sizing needs the strategy position (and so the wallet it is checked against)."""
    return (
        request.side is Side.SELL
        or request.reduce_only
        or request.rule in _AGAINST_POSITION
        or (request.heal and request.expected_position is not None)
    )


def needs_balance(request: SizingRequest) -> bool:
    """Whether sizing needs the account's balance."""
    return needs_position(request) or request.rule is SizingRule.PERCENT_EQUITY


def needs_ticker(request: SizingRequest) -> bool:
    """Whether sizing needs the market price (a market order, or a limit without a price)."""
    return request.order_type is OrderType.MARKET or request.limit_price is None


def size_order(
    request: SizingRequest, live: LiveData, market: MarketRules, rounding: Rounding
) -> SizedOrder:
    """Return the order to send, or raise `SizingRejectedError` with the reason in words."""
    limit = rounding.price(request.limit_price) if request.limit_price is not None else None
    price = limit if limit is not None else live.price
    against = needs_position(request)
    written_off = _missing(live) if against else ZERO
    draft = _Draft(request.side, ZERO, live.position - written_off)
    if written_off:
        draft.notes.append(_written_off_note(live, written_off, market))
    try:
        healed = _size(request, live, market, price, draft)
        amount = rounding.amount(draft.raw)
        check_minimums(amount, draft.raw, price, market)
        check_caps(amount, price, request, market)
    except SizingRejectedError as refused:
        if not written_off:
            raise
        # No order, but the coins are gone all the same: say so, and write them off.
        reason = " ".join([*draft.notes, refused.reason])
        raise SizingRejectedError(
            refused.code, reason, written_off=written_off, position_before=live.position
        ) from refused
    return SizedOrder(
        side=draft.side,
        amount=amount,
        price=limit,
        notes=tuple(draft.notes),
        position_before=live.position if against else None,
        written_off=written_off,
        healed=healed,
    )


def _size(
    request: SizingRequest,
    live: LiveData,
    market: MarketRules,
    price: Decimal | None,
    draft: _Draft,
) -> bool:
    """Fill ``draft`` with the order's side and unrounded amount; return whether it healed."""
    _raw_amount(request, live, market, price, draft)
    healed = _heal(request, live, market, draft)
    if draft.side is Side.SELL:
        _cap_sell(draft, live, market)
    elif request.reduce_only:
        raise _nothing_to_close(market)
    return healed


def _missing(live: LiveData) -> Decimal:
    """Return the strategy's coins the wallet no longer holds at all (0 when none are)."""
    return max(ZERO, live.position - max(live.base_total, ZERO))


def _raw_amount(
    request: SizingRequest,
    live: LiveData,
    market: MarketRules,
    price: Decimal | None,
    draft: _Draft,
) -> None:
    rule, value = request.rule, request.value
    if rule is SizingRule.BASE:
        draft.raw = value
    elif rule is SizingRule.PERCENT_POSITION:
        if draft.held <= 0:
            raise _nothing_to_close(market)
        draft.raw = draft.held * value / HUNDRED
    elif rule is SizingRule.TARGET_POSITION:
        draft.side, draft.raw = _towards(value, draft.held, market)
    elif rule is SizingRule.PERCENT_EQUITY:
        equity = live.quote_total + live.base_total * known_price(price, market)
        draft.raw = equity * value / HUNDRED / known_price(price, market)
    else:
        draft.raw = value / known_price(price, market)


def _towards(target: Decimal, held: Decimal, market: MarketRules) -> tuple[Side, Decimal]:
    # A spot account cannot be short: a short target means "hold none".
    delta = max(target, ZERO) - held
    if delta == 0:
        raise SizingRejectedError(
            "nothing_to_do",
            f"This strategy's {market.base} position is already at the target; no order was "
            "needed.",
        )
    return (Side.BUY, delta) if delta > 0 else (Side.SELL, -delta)


def _heal(request: SizingRequest, live: LiveData, market: MarketRules, draft: _Draft) -> bool:
    """Size towards TradingView's position when the alert's order would miss it (healing on)."""
    expected = request.expected_position
    if not request.heal or expected is None or request.rule is SizingRule.TARGET_POSITION:
        return False
    target = max(expected, ZERO)
    after = draft.held + (draft.raw if draft.side is Side.BUY else -draft.raw)
    # TradingView does not count fees taken in the coin: differences up to those are no drift.
    if abs(target - after) <= (market.amount_step or ZERO) + live.coin_fees:
        return False
    draft.side, draft.raw = _towards(target, draft.held, market)
    draft.notes.append(
        f"Sized to reach TradingView's position of {plain(target)} {market.base} (healing "
        f"is on): the alert's own order would have left the strategy at {plain(after)}."
    )
    return True


def _cap_sell(draft: _Draft, live: LiveData, market: MarketRules) -> None:
    """Never sell more than the strategy holds, nor more than is free."""
    if draft.held <= 0:
        raise _nothing_to_close(market)
    if draft.raw > draft.held:
        draft.notes.append(
            f"Sold the {plain(draft.held)} {market.base} this strategy holds, not the "
            f"{plain(draft.raw)} asked: Sparky never sells coins its own orders did not buy."
        )
        draft.raw = draft.held
    free = max(live.base_free, ZERO)
    if draft.raw > free:
        locked = max(live.base_total - free, ZERO)
        if free <= 0:
            raise SizingRejectedError(
                "balance_locked",
                f"The {plain(draft.raw)} {market.base} to sell are locked in open orders "
                f"({plain(locked)} {market.base} locked, none free); nothing was sold.",
            )
        draft.notes.append(
            f"Sold the {plain(free)} {market.base} that are free, not {plain(draft.raw)}: "
            f"{plain(locked)} {market.base} are locked in open orders."
        )
        draft.raw = free


def _written_off_note(live: LiveData, written_off: Decimal, market: MarketRules) -> str:
    return (
        f"Your wallet holds {plain(max(live.base_total, ZERO))} {market.base}, less than the "
        f"{plain(live.position)} this strategy bought: {plain(written_off)} {market.base} "
        "were sold or moved outside Sparky and are written off the strategy's position."
    )


def _nothing_to_close(market: MarketRules) -> SizingRejectedError:
    return SizingRejectedError(
        "nothing_to_close",
        f"This strategy holds no {market.base} on this account, so there is nothing to sell: "
        f"Sparky sells only what its own orders bought, never {market.base} held otherwise.",
    )

"""Pure decisions about OCO order lists: which legs may go where, and what the list locks.

An OCO has an *above* and a *below* leg. For a SELL (the protective exit of a long) the above
leg takes the profit (LIMIT_MAKER, TAKE_PROFIT or TAKE_PROFIT_LIMIT) and the below leg stops
the loss (STOP_LOSS or STOP_LOSS_LIMIT); for a BUY it is the other way round. Each leg must be
on its side of the last price (Binance: "LIMIT_MAKER price > last price > stopPrice" for a
SELL), else neither is placed. The list locks its cost once: the quantity of base for a SELL,
for a BUY the quote of its dearer leg.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from services.paper import errors
from services.paper.domain import spot as domain
from services.paper.markets import Market
from services.paper.models import (
    ZERO,
    Balance,
    NewOco,
    NewOrder,
    OcoLeg,
    Order,
    OrderType,
    Side,
)

OCO_TYPES = frozenset(
    {
        OrderType.LIMIT_MAKER,
        OrderType.STOP_LOSS,
        OrderType.STOP_LOSS_LIMIT,
        OrderType.TAKE_PROFIT,
        OrderType.TAKE_PROFIT_LIMIT,
    }
)


def _kind(leg: OcoLeg) -> str:
    if leg.type is OrderType.LIMIT_MAKER:
        return "limit"
    return "stop loss" if leg.type.is_stop_loss else "take profit"


def _check_sides(oco: NewOco) -> None:
    above, below = _kind(oco.above), _kind(oco.below)
    if above == below == "limit":
        raise errors.oco_both_limit()
    stops_above = oco.side is Side.BUY
    if (above == "stop loss") != stops_above:
        raise errors.oco_leg_misplaced(oco.side.value, above)
    if (below == "stop loss") == stops_above:
        raise errors.oco_leg_misplaced(oco.side.value, below)


def leg_order(oco: NewOco, leg: OcoLeg) -> NewOrder:
    """Return a leg as the single order it becomes."""
    return NewOrder(
        symbol=oco.symbol,
        side=oco.side,
        type=leg.type,
        client_order_id=leg.client_order_id,
        resp_type=oco.resp_type,
        quantity=oco.quantity,
        price=leg.price,
        time_in_force=leg.time_in_force,
        stop_price=leg.stop_price,
    )


def _would_work_now(order: NewOrder, last: Decimal) -> bool:
    limit, stop = order.price or ZERO, order.stop_price or ZERO
    takes_profit_at_limit = order.type.has_limit_price and not order.type.is_stop_loss
    if takes_profit_at_limit and domain.crosses(order.side, limit, last):
        return True
    return order.type.is_conditional and domain.triggered(order.type, order.side, stop, last)


def _filters(market: Market, order: NewOrder) -> Decimal:
    if order.type.is_conditional:
        return domain.check_conditional(market, order)
    domain.check_price(market, order.price or ZERO)
    domain.check_qty(market, order.quantity or ZERO)
    domain.check_notional(market, (order.quantity or ZERO) * (order.price or ZERO))
    return order.price or ZERO


def check(market: Market, oco: NewOco, last: Decimal) -> Decimal:
    """Check an OCO at last price ``last``; return the price its cost is locked at."""
    if oco.above.type not in OCO_TYPES or oco.below.type not in OCO_TYPES:
        raise errors.oco_type_rejected()
    _check_sides(oco)
    legs = [leg_order(oco, oco.below), leg_order(oco, oco.above)]
    at = max(_filters(market, leg) for leg in legs)
    if any(_would_work_now(leg, last) for leg in legs):
        raise errors.oco_prices()
    return at


def list_lock_price(legs: Iterable[Order]) -> Decimal:
    """Return the price an executing list's cost is locked at (its dearest leg's)."""
    return max(domain.lock_price(leg) for leg in legs)


def release_list(market: Market, wallet: domain.Wallet, legs: list[Order]) -> tuple[Balance, ...]:
    """Unlock what an executing list locked (once for all its legs)."""
    first = legs[0]
    return domain.lock(market, wallet, first.side, first.orig_qty, list_lock_price(legs), sign=-1)

"""OCO order lists in the store: placed with one lock, ended together.

Every function runs inside the caller's write transaction (`Store.write`). An executing list
holds one lock for both legs (`oco.release_list`); when a leg works (fills or triggers) the
other leg EXPIRES, when a leg is canceled both are CANCELED, and either way the list is
ALL_DONE and its lock released. A triggered STOP_LOSS_LIMIT leg that then rests at its limit
holds a lock of its own, like any lone order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from services.paper import errors
from services.paper.domain import oco
from services.paper.domain import spot as domain
from services.paper.markets import Market
from services.paper.models import (
    ZERO,
    Balance,
    ListStatus,
    NewOco,
    Order,
    OrderList,
    OrderStatus,
)
from services.paper.store.transaction import Tx


@dataclass(frozen=True, slots=True)
class ListedOrders:
    """An order list and its legs, oldest leg (the below one) first."""

    order_list: OrderList
    legs: tuple[Order, ...]


def merged(wallet: Mapping[str, Balance], balances: tuple[Balance, ...]) -> dict[str, Balance]:
    """Return ``wallet`` with ``balances`` written over it."""
    return {**wallet, **{b.asset: b for b in balances}}


async def unlock(  # noqa: PLR0917 - one transaction's step, named in full
    tx: Tx, market: Market, order: Order, wallet: Mapping[str, Balance], end: OrderStatus, now: int
) -> dict[str, Balance]:
    """Release what holds ``order``'s cost: its own lock, or its executing list's single
    lock, the list's other open legs ending as ``end`` and the list ALL_DONE."""
    legs = await tx.legs(order.order_list_id) if order.order_list_id >= 0 else []
    open_legs = [leg for leg in legs if leg.status is OrderStatus.NEW]
    if len(open_legs) < 2:  # a lone order, or a leg still working after its list ended
        return merged(wallet, domain.release(market, wallet, order))
    for leg in open_legs:
        if leg.order_id != order.order_id:
            await tx.update_order(replace(leg, status=end, updated_ms=now))
    head = await tx.order_list(order.account_id, order.order_list_id, None)
    if head is not None:
        await tx.update_order_list(replace(head, status=ListStatus.ALL_DONE, updated_ms=now))
    return merged(wallet, oco.release_list(market, wallet, open_legs))


async def _check_client_ids(tx: Tx, account_id: int, request: NewOco) -> None:
    # Refused before anything else is judged, as for single orders: a resubmission is
    # always recognised as one.
    if await tx.list_client_id_taken(account_id, request.list_client_order_id):
        raise errors.duplicate_order()
    for leg in (request.below, request.above):
        if await tx.client_id_taken(account_id, leg.client_order_id):
            raise errors.duplicate_order()


async def place_oco(  # noqa: PLR0917 - one transaction's step, named in full
    tx: Tx, market: Market, account_id: int, request: NewOco, last: Decimal, now: int
) -> ListedOrders:
    """Insert an OCO checked at price ``last``: the list, its below then its above leg."""
    await _check_client_ids(tx, account_id, request)
    at = oco.check(market, request, last)
    wallet = await tx.wallet(account_id, (market.base, market.quote))
    balances = domain.lock(market, wallet, request.side, request.quantity, at)
    head = await tx.insert_order_list(
        OrderList(
            order_list_id=0,
            account_id=account_id,
            symbol=market.symbol,
            list_client_order_id=request.list_client_order_id,
            status=ListStatus.EXECUTING,
            created_ms=now,
            updated_ms=now,
        )
    )
    legs = []
    for leg in (request.below, request.above):
        order = oco.leg_order(request, leg)
        limit = order.price if order.type.has_limit_price and order.price else ZERO
        waiting = domain.Placement(
            OrderStatus.NEW, limit, request.quantity, None, (), working=not leg.type.is_conditional
        )
        new = domain.new_order(account_id, order, waiting, now, head.order_list_id)
        legs.append(await tx.insert_order(new))
    await tx.put_balances(account_id, balances)
    return ListedOrders(head, tuple(legs))


async def cancel_list(tx: Tx, market: Market, head: OrderList, now: int) -> ListedOrders:
    """Cancel an executing list: its open legs CANCELED, its lock released, ALL_DONE."""
    legs = await tx.legs(head.order_list_id)
    open_legs = [leg for leg in legs if leg.status is OrderStatus.NEW]
    wallet = await tx.wallet(head.account_id, (market.base, market.quote))
    balances: tuple[Balance, ...] = ()
    if len(open_legs) > 1:
        balances = oco.release_list(market, wallet, open_legs)
    elif open_legs:  # a leg working alone after the list ended holds its own lock
        balances = domain.release(market, wallet, open_legs[0])
    ended = [
        replace(leg, status=OrderStatus.CANCELED, updated_ms=now)
        if leg.status is OrderStatus.NEW
        else leg
        for leg in legs
    ]
    for leg in ended:
        await tx.update_order(leg)
    done = replace(head, status=ListStatus.ALL_DONE, updated_ms=now)
    await tx.update_order_list(done)
    await tx.put_balances(head.account_id, balances)
    return ListedOrders(done, tuple(ended))

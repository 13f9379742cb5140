"""Protective orders of an entry that filled: what to place, at which prices. Pure.

A take-profit and a stop-loss attached to an entry are placed once the entry has filled, as
reduce-only orders on the exit side for the amount the entry filled: a take-profit-market and a
stop-market at their trigger prices, a stop-limit with its limit, or a trailing stop where the
venue trails natively. Targets given as a percent or a distance are measured from the entry's
average fill price; every trigger must lie on its own side of it (a long's take-profit above,
its stop below; a short's the other way round), else the protection is refused in words.

Each protective order is a record of its own whose client order id is the entry's plus ``t``
(take-profit) or ``s`` (stop-loss), so placing it again after a crash finds it instead.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from typing import Any

from libs.common.fsm import OrderState
from libs.common.ids import ClientOrderId
from libs.common.messages import ExitKind, OrderRole, OrderType, PriceTarget, PriceUnit, Side
from libs.common.positions import is_contract
from services.executor.domain import OrderRecord, Rounding
from services.executor.orders.sizing import HUNDRED, plain

SUFFIX = {OrderRole.TAKE_PROFIT: "t", OrderRole.STOP_LOSS: "s"}
TRAIL_PERCENT_RANGE = (Decimal("0.1"), Decimal(10))
_WORDS = {OrderRole.TAKE_PROFIT: "take-profit", OrderRole.STOP_LOSS: "stop-loss"}


class InvalidExitError(ValueError):
    """The protective order cannot be placed as asked; the message says why, for the trader."""


def words(role: OrderRole) -> str:
    return _WORDS.get(role, role.value)


def targets(entry: OrderRecord) -> list[tuple[OrderRole, PriceTarget]]:
    """Return the entry's targets, take-profit first."""
    given = ((OrderRole.TAKE_PROFIT, entry.take_profit), (OrderRole.STOP_LOSS, entry.stop_loss))
    return [(role, PriceTarget.model_validate_json(t)) for role, t in given if t]


def child_id(entry: OrderRecord, role: OrderRole) -> ClientOrderId:
    return ClientOrderId(entry.client_order_id + SUFFIX[role])


def trigger_of(
    role: OrderRole, target: PriceTarget, entry_price: Decimal, *, long: bool
) -> Decimal:
    """Return the trigger price of a target measured from ``entry_price``."""
    if target.unit is PriceUnit.PRICE:
        return target.value
    distance = (
        entry_price * target.value / HUNDRED if target.unit is PriceUnit.PERCENT else target.value
    )
    up = (role is OrderRole.TAKE_PROFIT) == long
    return entry_price + distance if up else entry_price - distance


def plan(
    entry: OrderRecord,
    role: OrderRole,
    target: PriceTarget,
    rounding: Rounding,
    native: frozenset[ExitKind],
    *,
    amount: Decimal | None = None,
    now: datetime | None = None,
) -> OrderRecord:
    """Return the pending record of one protective order, or raise `InvalidExitError`.

    ``amount``: what it closes (the entry's filled amount by default); ``now``: when it is
    recorded and about to be sent (the entry's last change by default).
    """
    entry_price = entry.average_price
    if entry_price is None or entry.filled <= 0:
        raise InvalidExitError(f"The entry has no fill price to place the {words(role)} from.")
    if target.kind not in native:
        raise InvalidExitError(
            f"This exchange cannot hold a {target.kind.value} {words(role)} natively, and Sparky "
            "does not imitate one; it was not placed."
        )
    long = entry.side is Side.BUY
    order_type, trigger, price = _prices(role, target, entry_price, rounding, long=long)
    return dataclasses.replace(
        entry,
        client_order_id=child_id(entry, role),
        side=Side.SELL if long else Side.BUY,
        order_type=order_type,
        state=OrderState.PENDING,
        amount=rounding.amount(entry.filled if amount is None else amount),
        price=price,
        exchange_order_id=None,
        filled=Decimal(0),
        reported_trades=(),
        created_at=now or entry.updated_at,
        updated_at=now or entry.updated_at,
        sent_at=now or entry.updated_at,
        reason=None,
        reason_code=None,
        failure_reported=False,
        version=0,
        expected_position=None,
        healed=False,
        position_before=None,
        written_off=Decimal(0),
        note=None,
        role=role,
        parent_client_order_id=entry.client_order_id,
        reduce_only=True,
        trigger_price=trigger,
        average_price=None,
        take_profit=target.model_dump_json() if role is OrderRole.TAKE_PROFIT else None,
        stop_loss=target.model_dump_json() if role is OrderRole.STOP_LOSS else None,
        protection=None,
    )


def _prices(
    role: OrderRole, target: PriceTarget, entry_price: Decimal, rounding: Rounding, *, long: bool
) -> tuple[OrderType, Decimal | None, Decimal | None]:
    if target.kind is ExitKind.TRAILING:
        _check_trail(target, entry_price)
        return OrderType.TRAILING_STOP, None, None
    trigger = rounding.price(trigger_of(role, target, entry_price, long=long))
    _check_side(role, trigger, entry_price, long=long)
    if target.kind is ExitKind.LIMIT and target.limit_price is not None:
        return OrderType.STOP_LIMIT, trigger, rounding.price(target.limit_price)
    kind = OrderType.TAKE_PROFIT if role is OrderRole.TAKE_PROFIT else OrderType.STOP
    return kind, trigger, None


def _check_side(role: OrderRole, trigger: Decimal, entry_price: Decimal, *, long: bool) -> None:
    if trigger <= 0:
        raise InvalidExitError(f"The {words(role)} price would be {plain(trigger)}, not above 0.")
    above = (role is OrderRole.TAKE_PROFIT) == long
    if (trigger > entry_price) != above or trigger == entry_price:
        side = "above" if above else "below"
        held = "long" if long else "short"
        raise InvalidExitError(
            f"A {held}'s {words(role)} must be {side} the entry price of {plain(entry_price)}; "
            f"{plain(trigger)} is not, so it was not placed."
        )


def _check_trail(target: PriceTarget, entry_price: Decimal) -> None:
    low, high = TRAIL_PERCENT_RANGE
    if target.unit is not PriceUnit.PERCENT:
        raise InvalidExitError(
            "This exchange trails a stop by a percentage only (Binance's callback rate); send "
            f"trailPercent instead of an amount ({plain(target.value)} is "
            f"{plain(round(target.value / entry_price * HUNDRED, 2))} % of the entry price)."
        )
    if not low <= target.value <= high:
        raise InvalidExitError(
            f"A trailing stop trails by {plain(low)} % to {plain(high)} % on this exchange; "
            f"{plain(target.value)} % is outside that."
        )


def order_params(record: OrderRecord) -> dict[str, Any]:
    """Return the ccxt params beyond the client order id that ``record`` is sent with."""
    # Spot has no reduce-only: a sell can only reduce there.
    contract = is_contract(record.symbol)
    params: dict[str, Any] = {"reduceOnly": True} if record.reduce_only and contract else {}
    trigger = format(record.trigger_price, "f") if record.trigger_price is not None else None
    if record.order_type is OrderType.TAKE_PROFIT:
        params["takeProfitPrice"] = trigger
    elif record.order_type in (OrderType.STOP, OrderType.STOP_LIMIT):
        params["stopLossPrice"] = trigger
    elif record.order_type is OrderType.TRAILING_STOP and record.stop_loss:
        params["trailingPercent"] = format(
            PriceTarget.model_validate_json(record.stop_loss).value, "f"
        )
    return params

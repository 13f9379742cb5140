"""Which orders an action becomes, given the direction rules and the known position.

Futures accounts follow the trader's direction rules and what a signal against the open
position does (reverse, close only, ignore); spot accounts cannot be short, so a sell there
sells what is held. An ``add`` opens more in the direction of the known position. Closing legs
are reduce-only (futures) and sized as 100 % of the position (or as the alert says): the
executor resolves them against the live position.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from libs.common.messages import (
    Action,
    Alert,
    MarketPosition,
    QuantityType,
    RejectReason,
    Side,
    Sizing,
    SizingRule,
)
from libs.common.records import MarketType
from services.router.domain.decisions import refuse
from services.router.domain.trade_settings import Directions, EffectiveSettings, OppositeSignal

ALL = Sizing(rule=SizingRule.PERCENT_POSITION, value=Decimal(100))
FLAT = Sizing(rule=SizingRule.TARGET_POSITION, value=Decimal(0))
_PERCENT = (QuantityType.PERCENT_EQUITY, QuantityType.PERCENT_POSITION)


@dataclass(frozen=True, slots=True)
class Leg:
    """One order before it gets its account, symbol and envelope.

    ``opening``: adds exposure, so trading windows, size caps, leverage and TP/SL apply.
    ``priced``: takes the alert's order type and limit price (a reversal closes at market).
    """

    side: Side
    sizing: Sizing
    reduce_only: bool = False
    opening: bool = False
    priced: bool = True


def plan_legs(
    alert: Alert, settings: EffectiveSettings, market: MarketType, position: Decimal
) -> tuple[Leg, ...]:
    """Return the legs ``alert`` becomes, or raise `Refused`."""
    if alert.is_target_position:
        return (_target_leg(alert, settings, market, position),)
    if alert.action in (Action.BUY, Action.SELL):
        side = Side(alert.action.value)
        if market is MarketType.SPOT and side is Side.SELL:
            return (Leg(Side.SELL, close_sizing(alert, settings)),)
        return _entry_legs(side, alert, settings, market, position)
    if alert.action is Action.ADD:
        return _entry_legs(_adding_side(position), alert, settings, market, position)
    return (_close_leg(alert, settings, market, position),)


def _adding_side(position: Decimal) -> Side:
    """An ``add`` buys while long and sells while short; flat, it has nothing to add to."""
    if position == 0:
        raise refuse(
            RejectReason.NOTHING_TO_DO,
            "No open position is known to add to: add needs an open position; send buy or "
            "sell to open one.",
        )
    return Side.BUY if position > 0 else Side.SELL


def _entry_legs(
    side: Side, alert: Alert, settings: EffectiveSettings, market: MarketType, position: Decimal
) -> tuple[Leg, ...]:
    sign = 1 if side is Side.BUY else -1
    allowed = market is MarketType.SPOT or allows(settings.directions, sign)
    opened = Leg(side, open_sizing(alert, settings), opening=True)
    if position * sign >= 0:
        if not allowed:
            raise refuse(RejectReason.DIRECTION_NOT_ALLOWED, _direction_message(side))
        return (opened,)
    rule = settings.opposite_signal
    if rule is OppositeSignal.IGNORE:
        held = "short" if sign > 0 else "long"
        raise refuse(
            RejectReason.NOTHING_TO_DO,
            f"Ignored a {side.value} while {held}, as your settings say (opposite signal: ignore).",
        )
    if rule is OppositeSignal.CLOSE_ONLY or not allowed:
        return (Leg(side, ALL, reduce_only=True),)
    return (Leg(side, ALL, reduce_only=True, priced=False), opened)


def _close_leg(
    alert: Alert, settings: EffectiveSettings, market: MarketType, position: Decimal
) -> Leg:
    action, futures = alert.action, market is MarketType.FUTURES
    if action is Action.CLOSE_SHORT and not futures:
        raise refuse(RejectReason.NOTHING_TO_DO, "A spot account holds no short position.")
    if not futures:
        return Leg(Side.SELL, close_sizing(alert, settings))
    if action is Action.CLOSE_LONG:
        return Leg(Side.SELL, close_sizing(alert, settings), reduce_only=True)
    if action is Action.CLOSE_SHORT:
        return Leg(Side.BUY, close_sizing(alert, settings), reduce_only=True)
    if alert.quantity is None:  # close whatever is open: the executor reads the live position
        return Leg(Side.BUY if position < 0 else Side.SELL, FLAT, reduce_only=True)
    if position == 0:
        raise refuse(
            RejectReason.NOTHING_TO_DO,
            "No open position is known to close part of; send the close without a quantity "
            "to close whatever is open.",
        )
    side = Side.BUY if position < 0 else Side.SELL
    return Leg(side, close_sizing(alert, settings), reduce_only=True)


def _target_leg(
    alert: Alert, settings: EffectiveSettings, market: MarketType, position: Decimal
) -> Leg:
    target, futures = target_of(alert), market is MarketType.FUTURES
    if not futures or settings.directions is Directions.LONG_ONLY:
        target = max(target, Decimal(0))  # "short" means "flat" where shorts are not allowed
    elif settings.directions is Directions.SHORT_ONLY:
        target = min(target, Decimal(0))
    # Equal to the position: nothing to add, so nothing that opening rules should stop.
    reducing = target == 0 or (target * position > 0 and abs(target) <= abs(position))
    side = Side.BUY if target > position else Side.SELL
    sizing = Sizing(rule=SizingRule.TARGET_POSITION, value=target)
    return Leg(side, sizing, reduce_only=futures and reducing, opening=not reducing)


def target_of(alert: Alert) -> Decimal:
    """Return the signed position an alert in target-position mode asks for."""
    if alert.market_position is MarketPosition.FLAT:
        return Decimal(0)
    size = alert.position_size
    if size is None:
        raise refuse(
            RejectReason.INVALID_QUANTITY,
            "market_position long or short needs position_size ({{strategy.position_size}}).",
        )
    if alert.market_position is MarketPosition.LONG:
        return abs(size)
    if alert.market_position is MarketPosition.SHORT:
        return -abs(size)
    return size


def expected_position(alert: Alert, market: MarketType) -> Decimal | None:
    """Return TradingView's position of the strategy after the alert, when the alert says it
    (``position_size`` / ``market_position``); None otherwise, or when it cannot be read from
    it (``long`` without a size next to a quantity).
    """
    if not alert.states_position:
        return None
    if alert.market_position is not MarketPosition.FLAT and alert.position_size is None:
        return None
    target = target_of(alert)
    return target if market is MarketType.FUTURES else max(target, Decimal(0))


def allows(directions: Directions, sign: int) -> bool:
    """Whether ``directions`` lets a position of ``sign`` (+1 long, -1 short) be opened."""
    if directions is Directions.BOTH:
        return True
    return (directions is Directions.LONG_ONLY) == (sign > 0)


def _direction_message(side: Side) -> str:
    opened, rule, held = (
        ("long", "short only", "short") if side is Side.BUY else ("short", "long only", "long")
    )
    return (
        f"{opened.capitalize()} positions are turned off for this account ({rule}), and no "
        f"{held} position is known that this {side.value} would close."
    )


def open_sizing(alert: Alert, settings: EffectiveSettings) -> Sizing:
    """Return the size of an opening order: the alert's quantity, else the default."""
    quantity = alert.quantity if alert.quantity is not None else settings.quantity
    if quantity is None:
        raise refuse(
            RejectReason.INVALID_QUANTITY,
            "The alert has no quantity and no default quantity is set in your trade settings.",
        )
    return _sizing(quantity, alert.quantity_type or settings.quantity_type)


def close_sizing(alert: Alert, settings: EffectiveSettings) -> Sizing:
    """Return the size of a closing order: the alert's quantity, else all of the position."""
    if alert.quantity is None:
        return ALL
    return _sizing(alert.quantity, alert.quantity_type or settings.quantity_type)


def _sizing(quantity: Decimal, kind: QuantityType) -> Sizing:
    if kind in _PERCENT and quantity > 100:
        raise refuse(
            RejectReason.INVALID_QUANTITY,
            f"A quantity of {quantity} % is more than 100 % ({kind.value}).",
        )
    return Sizing(rule=SizingRule(kind.value), value=quantity)

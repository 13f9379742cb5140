"""What the alert alone shows is wrong, once each field is readable: refused with 400 here
rather than rejected after it was stored.

- A take-profit or stop-loss protects a new position: on an alert written as a close, an
  exit or a cancel it is refused. On a buy or sell that its ``sentiment`` turned into a close,
  or a target position of flat, it is dropped instead: that is one template serving entries
  and exits (TradersPost ignores it there too), and refusing it would leave the position open.
- A limit entry's take-profit and stop-loss prices sit on either side of its limit price
  (long: take-profit above, stop-loss below; short the reverse), and a take-profit price is
  beyond the stop-loss price.
- A client order id names an order to cancel: only a ``cancel`` carries one.
"""

from __future__ import annotations

from decimal import Decimal

from libs.common.messages import Action, Alert, MarketPosition, OrderType, PriceTarget, PriceUnit
from services.ingress.errors import FieldError

CLOSES = frozenset({Action.CLOSE, Action.CLOSE_LONG, Action.CLOSE_SHORT})
NOTHING_TO_PROTECT = CLOSES | {Action.CANCEL}
_TARGETS = ("take_profit", "stop_loss")
_HUNDRED = Decimal(100)


def check(alert: Alert, written: Action) -> tuple[Alert, list[FieldError]]:
    """Return the alert to store (a template's exits dropped from a close) and its problems.

    ``written`` is the action as the alert wrote it, before a ``sentiment`` changed it.
    """
    errors = _client_order_id(alert)
    alert, problems = _protection(alert, written)
    return alert, errors + problems


def _client_order_id(alert: Alert) -> list[FieldError]:
    if alert.client_order_id is None or alert.action is Action.CANCEL:
        return []
    message = (
        "client_order_id names an order to cancel: it goes only with action cancel "
        f"(this alert is a {alert.action.value})."
    )
    return [FieldError("client_order_id", message)]


def _protection(alert: Alert, written: Action) -> tuple[Alert, list[FieldError]]:
    given = [name for name in _TARGETS if getattr(alert, name) is not None]
    if not given:
        return alert, []
    if written in NOTHING_TO_PROTECT:
        return alert, [_nothing_to_protect(name, written) for name in given]
    if alert.action in CLOSES or _flat_target(alert):
        return alert.model_copy(update=dict.fromkeys(_TARGETS)), []
    long = _direction(alert)
    return alert, ([] if long is None else _sides(alert, long=long))


def _nothing_to_protect(name: str, written: Action) -> FieldError:
    message = (
        f"{name} protects a new position, and a {written.value} opens none: remove it "
        "(a close also cancels the position's take-profit and stop-loss orders)."
    )
    return FieldError(name, message)


def _flat_target(alert: Alert) -> bool:
    return alert.is_target_position and alert.market_position is MarketPosition.FLAT


def _direction(alert: Alert) -> bool | None:
    """True for a long entry, False for a short one, None when the alert does not say."""
    if alert.is_target_position:
        position = alert.market_position
        return None if position is None else position is MarketPosition.LONG
    return {Action.BUY: True, Action.SELL: False}.get(alert.action)


def _sides(alert: Alert, *, long: bool) -> list[FieldError]:
    side, above, below = ("long", "above", "below") if long else ("short", "below", "above")
    take, stop = _price(alert.take_profit), _price(alert.stop_loss)
    errors: list[FieldError] = []
    limit = alert.price if alert.order_type is OrderType.LIMIT else None
    if limit is not None and take is not None and not _beyond(take, limit, long=long):
        errors.append(_wrong_side("take_profit", take, above, f"the limit price {_n(limit)}", side))
    if limit is not None and stop is not None and not _beyond(limit, stop, long=long):
        errors.append(_wrong_side("stop_loss", stop, below, f"the limit price {_n(limit)}", side))
    if take is not None and stop is not None and not _beyond(take, stop, long=long):
        errors.append(_wrong_side("stop_loss", stop, below, f"take_profit {_n(take)}", side))
    if not long and _percent(alert.take_profit) >= _HUNDRED:
        message = "take_profit of a short must be below 100% (a price cannot fall further)."
        errors.append(FieldError("take_profit", message))
    return errors


def _beyond(higher: Decimal, lower: Decimal, *, long: bool) -> bool:
    """Whether ``higher`` is strictly on the profit side of ``lower`` for the position."""
    return higher > lower if long else higher < lower


def _wrong_side(name: str, value: Decimal, where: str, reference: str, side: str) -> FieldError:
    return FieldError(name, f"{name} {_n(value)} must be {where} {reference} for a {side}.")


def _price(target: PriceTarget | None) -> Decimal | None:
    return target.value if target is not None and target.unit is PriceUnit.PRICE else None


def _percent(target: PriceTarget | None) -> Decimal:
    return target.value if target is not None and target.unit is PriceUnit.PERCENT else Decimal(0)


def _n(number: Decimal) -> str:
    return f"{number.normalize():f}"

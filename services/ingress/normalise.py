"""Turn an alert's fields into the `Alert` the router acts on, or say what is wrong with each.

Synonyms are folded (``long`` → buy, ``exit`` → close), numbers given as text become exact
decimals, ``50%`` becomes a percentage of equity (buy, sell) or of the position (closes), and
``{{strategy.market_position}}`` / ``{{strategy.position_size}}`` fill the target position.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from types import MappingProxyType

from pydantic import ValidationError

from libs.common.messages import (
    Action,
    Alert,
    MarketPosition,
    OrderType,
    PriceTarget,
    PriceUnit,
    QuantityType,
)
from services.ingress.errors import FieldError, InvalidAlertError
from services.ingress.instruments import parse_instrument
from services.ingress.values import (
    FieldValueError,
    Value,
    as_choice,
    as_decimal,
    as_positive,
    as_text,
    as_time,
)

ACTIONS = MappingProxyType(
    {
        "buy": Action.BUY,
        "long": Action.BUY,
        "sell": Action.SELL,
        "short": Action.SELL,
        "close": Action.CLOSE,
        "exit": Action.CLOSE,
        "flat": Action.CLOSE,
        "close_long": Action.CLOSE_LONG,
        "exit_long": Action.CLOSE_LONG,
        "close_short": Action.CLOSE_SHORT,
        "exit_short": Action.CLOSE_SHORT,
        "cancel": Action.CANCEL,
    }
)
CLOSES = frozenset({Action.CLOSE, Action.CLOSE_LONG, Action.CLOSE_SHORT})
QUANTITY_TYPES = MappingProxyType({t.value: t for t in QuantityType})
ORDER_TYPES = MappingProxyType({t.value: t for t in OrderType})
MARKET_POSITIONS = MappingProxyType({p.value: p for p in MarketPosition})
PERCENT_TYPES = frozenset({QuantityType.PERCENT_EQUITY, QuantityType.PERCENT_POSITION})
MAX_LEVERAGE = Decimal(1000)
_WHEN = "when market_position"


def _price_target(value: Value) -> PriceTarget:
    if isinstance(value, str) and value.strip().endswith("%"):
        return PriceTarget(value=as_positive(value.strip()[:-1]), unit=PriceUnit.PERCENT)
    return PriceTarget(value=as_positive(value), unit=PriceUnit.PRICE)


def _leverage(value: Value) -> Decimal:
    if isinstance(value, str):
        value = value.strip().removesuffix("x").removesuffix("X")
    leverage = as_positive(value)
    if leverage > MAX_LEVERAGE:
        raise FieldValueError(f"must be at most {MAX_LEVERAGE}")
    return leverage


# field name in the alert → (name in `Alert`, converter)
_SIMPLE: Mapping[str, tuple[str, Callable[[Value], object]]] = MappingProxyType(
    {
        "action": ("action", lambda v: as_choice(v, ACTIONS)),
        "symbol": ("instrument", lambda v: parse_instrument(as_text(v, max_length=200))),
        "account": ("account", lambda v: as_text(v, max_length=64)),
        "order_type": ("order_type", lambda v: as_choice(v, ORDER_TYPES)),
        "price": ("price", as_positive),
        "take_profit": ("take_profit", _price_target),
        "stop_loss": ("stop_loss", _price_target),
        "leverage": ("leverage", _leverage),
        "position_size": ("position_size", as_decimal),
        "market_position": ("market_position", lambda v: as_choice(v, MARKET_POSITIONS)),
        "id": ("sender_id", lambda v: as_text(v, max_length=128)),
        "strategy": ("strategy", lambda v: as_text(v, max_length=500, multiline=True)),
        "comment": ("comment", lambda v: as_text(v, max_length=500, multiline=True)),
        "time": ("alert_time", as_time),
    }
)


def to_alert(fields: Mapping[str, Value]) -> Alert:
    """Return the normalised alert; raise `InvalidAlertError` listing every field's problem."""
    values: dict[str, object] = {}
    errors: list[FieldError] = []
    for name, (target, convert) in _SIMPLE.items():
        if name in fields:
            try:
                values[target] = convert(fields[name])
            except FieldValueError as problem:
                errors.append(FieldError(name, f"{name} {problem}."))
    errors += [FieldError(n, f"{n} is missing.") for n in ("action", "symbol") if n not in fields]
    errors += _sizing(fields, values) + _consistency(fields, values)
    if errors:
        raise InvalidAlertError(errors)
    try:
        return Alert.model_validate(values)
    except ValidationError as exc:  # every rule is checked above; a safety net, not a path
        raise InvalidAlertError([FieldError("body", "The message is not a valid alert.")]) from exc


class _BadSize(Exception):  # noqa: N818 - internal control flow, carries a FieldError
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.error = FieldError(field, message)


def _sizing(fields: Mapping[str, Value], values: dict[str, object]) -> list[FieldError]:
    """Fill ``quantity`` and ``quantity_type``: ``50%`` is a percentage, a number is base."""
    try:
        values.update(_size(fields, closing=values.get("action") in CLOSES))
    except _BadSize as bad:
        return [bad.error]
    return []


def _size(fields: Mapping[str, Value], *, closing: bool) -> dict[str, object]:
    kind = _quantity_type(fields.get("quantity_type"))
    if "quantity" not in fields:
        if kind is None:
            return {}
        raise _BadSize("quantity", "quantity is missing (quantity_type is given).")
    quantity, percent = _quantity(fields["quantity"])
    if percent:
        kind = _percent_type(kind, closing=closing)
    if kind is QuantityType.PERCENT_POSITION and quantity > 100:
        raise _BadSize("quantity", "quantity is more than 100% of the position.")
    return {"quantity": quantity, "quantity_type": kind or QuantityType.BASE}


def _quantity_type(value: Value) -> QuantityType | None:
    try:
        return None if value is None else as_choice(value, QUANTITY_TYPES)
    except FieldValueError as problem:
        raise _BadSize("quantity_type", f"quantity_type {problem}.") from None


def _quantity(value: Value) -> tuple[Decimal, bool]:
    """Return the quantity and whether it was a percentage (``50%``)."""
    percent = isinstance(value, str) and value.strip().endswith("%")
    if isinstance(value, str) and percent:
        value = value.strip()[:-1]
    try:
        return as_positive(value), percent
    except FieldValueError as problem:
        raise _BadSize("quantity", f"quantity {problem}.") from None


def _percent_type(kind: QuantityType | None, *, closing: bool) -> QuantityType:
    if kind is None:
        return QuantityType.PERCENT_POSITION if closing else QuantityType.PERCENT_EQUITY
    if kind not in PERCENT_TYPES:
        raise _BadSize("quantity", f"quantity ends with % but quantity_type is {kind.value}.")
    return kind


def _consistency(fields: Mapping[str, Value], values: dict[str, object]) -> list[FieldError]:
    """Check fields against each other; a short position given as a size is made negative."""
    if values.get("order_type") is OrderType.LIMIT and "price" not in fields:
        return [FieldError("price", "price is needed for a limit order.")]
    position, size = values.get("market_position"), values.get("position_size")
    if not isinstance(size, Decimal) or position is None:
        return []
    if position is MarketPosition.FLAT and size != 0:
        return [FieldError("position_size", f"position_size must be 0 {_WHEN} is flat.")]
    if position is MarketPosition.LONG and size < 0:
        return [FieldError("position_size", f"position_size is below 0 {_WHEN} is long.")]
    if position is MarketPosition.SHORT and size > 0:
        values["position_size"] = -size  # TradingView may send the size of a short unsigned
    return []

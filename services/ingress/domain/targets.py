"""Take-profit and stop-loss, in every shape traders paste, as `PriceTarget`s.

Flat fields: ``take_profit`` / ``tp`` and ``stop_loss`` / ``sl`` (a number is a price,
``"2%"`` a percentage from the entry's fill price), ``take_profit_percent`` / ``tp_percent``
and ``stop_loss_percent`` / ``sl_percent`` (a percentage), ``trailing_stop`` / ``trail``
(``"1%"`` trails by a percentage, a number by that distance in the quote currency).

Objects (TradersPost's shapes): ``take_profit: {"limit_price" | "percent" | "amount"}`` and
``stop_loss: {"stop_price" | "percent" | "amount"}`` with ``type`` ``stop`` (the default,
a stop-market), ``stop_limit`` (with ``limit_price``, the limit once triggered) or
``trailing_stop`` (with ``trail_percent`` or ``trail_amount``); camelCase spellings too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from types import MappingProxyType

from pydantic import ValidationError

from libs.common.messages import ExitKind, PriceTarget, PriceUnit
from services.ingress.domain.names import Names
from services.ingress.domain.values import (
    FieldValueError,
    JsonObject,
    Value,
    as_choice,
    as_positive,
)
from services.ingress.errors import FieldError

HUNDRED = Decimal(100)
TAKE_PROFIT = Names(
    frozenset({"limit_price", "percent", "amount", "pnl_amount"}),
    MappingProxyType({"limitPrice": "limit_price", "pnlAmount": "pnl_amount"}),
    where="take_profit.",
)
STOP_LOSS = Names(
    frozenset(
        {"type", "stop_price", "limit_price", "percent", "amount", "trail_percent", "trail_amount"}
    ),
    MappingProxyType(
        {
            "stopPrice": "stop_price",
            "limitPrice": "limit_price",
            "trailPercent": "trail_percent",
            "trailAmount": "trail_amount",
        }
    ),
    where="stop_loss.",
)
STOP_TYPES = MappingProxyType(
    {"stop": ExitKind.MARKET, "stop_limit": ExitKind.LIMIT, "trailing_stop": ExitKind.TRAILING}
)
# The fields of one target: which of them holds the value, and what unit it is in.
_UNITS = MappingProxyType(
    {
        "limit_price": PriceUnit.PRICE,
        "stop_price": PriceUnit.PRICE,
        "percent": PriceUnit.PERCENT,
        "amount": PriceUnit.AMOUNT,
        "trail_percent": PriceUnit.PERCENT,
        "trail_amount": PriceUnit.AMOUNT,
    }
)
_TAKE_PROFIT_FIELDS = ("take_profit", "take_profit_percent")
_STOP_LOSS_FIELDS = ("stop_loss", "stop_loss_percent", "trailing_stop")


class TargetError(Exception):
    """One target cannot be used; ``errors`` says why."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(errors[0].message)
        self.errors = errors


def read_targets(fields: Mapping[str, Value]) -> tuple[dict[str, PriceTarget], list[FieldError]]:
    """Return ``{"take_profit": …, "stop_loss": …}`` as given, and the problems found."""
    found: dict[str, PriceTarget] = {}
    errors: list[FieldError] = []
    for target, names in (("take_profit", _TAKE_PROFIT_FIELDS), ("stop_loss", _STOP_LOSS_FIELDS)):
        given = [name for name in names if name in fields]
        if len(given) > 1:
            both = " and ".join(given)
            errors.append(FieldError(given[1], f"{both} both give the {target}: give one."))
            continue
        if given:
            try:
                found[target] = _READERS[given[0]](fields[given[0]])
            except TargetError as bad:
                errors += bad.errors
            except ValidationError:  # every rule is checked above; a safety net, not a path
                errors.append(FieldError(given[0], f"{given[0]} is not a valid {target}."))
    return found, errors


def _number(field: str, convert: Callable[[Value], Decimal], value: Value) -> Decimal:
    try:
        return convert(value)
    except FieldValueError as problem:
        raise TargetError([FieldError(field, f"{field} {problem}.")]) from None


def _percent(value: Value) -> Decimal:
    """A percentage, written ``2`` or ``"2%"``."""
    if isinstance(value, str):
        value = value.strip().removesuffix("%")
    return as_positive(value)


def _price_or_percent(field: str, value: Value) -> tuple[Decimal, PriceUnit]:
    if isinstance(value, str) and value.strip().endswith("%"):
        return _number(field, _percent, value), PriceUnit.PERCENT
    return _number(field, as_positive, value), PriceUnit.PRICE


def _flat_take_profit(value: Value) -> PriceTarget:
    if isinstance(value, JsonObject):
        return _take_profit_object(value)
    number, unit = _price_or_percent("take_profit", value)
    return PriceTarget(value=number, unit=unit)


def _flat_stop_loss(value: Value) -> PriceTarget:
    if isinstance(value, JsonObject):
        return _stop_loss_object(value)
    number, unit = _price_or_percent("stop_loss", value)
    return _checked_stop(PriceTarget(value=number, unit=unit), "stop_loss")


def _percent_field(field: str) -> Callable[[Value], PriceTarget]:
    def read(value: Value) -> PriceTarget:
        target = PriceTarget(value=_number(field, _percent, value), unit=PriceUnit.PERCENT)
        return _checked_stop(target, field) if field.startswith("stop") else target

    return read


def _trailing_stop(value: Value) -> PriceTarget:
    number, unit = _price_or_percent("trailing_stop", value)
    unit = PriceUnit.AMOUNT if unit is PriceUnit.PRICE else unit  # a trail is a distance
    target = PriceTarget(value=number, unit=unit, kind=ExitKind.TRAILING)
    return _checked_stop(target, "trailing_stop")


def _checked_stop(target: PriceTarget, field: str) -> PriceTarget:
    if target.unit is PriceUnit.PERCENT and target.value >= HUNDRED:
        raise TargetError([FieldError(field, f"{field} must be below 100%.")])
    return target


def _take_profit_object(value: JsonObject) -> PriceTarget:
    given = _object(TAKE_PROFIT, value)
    if "pnl_amount" in given:
        message = (
            "take_profit.pnl_amount (a profit in money) is not supported: "
            "use percent, amount or limit_price."
        )
        raise TargetError([FieldError("take_profit.pnl_amount", message)])
    field = _one_of(given, ("limit_price", "percent", "amount"), "take_profit")
    number = _number(f"take_profit.{field}", _reader(field), given[field])
    return PriceTarget(value=number, unit=_UNITS[field])


def _stop_loss_object(value: JsonObject) -> PriceTarget:
    given = _object(STOP_LOSS, value)
    kind = _stop_kind(given)
    if kind is ExitKind.TRAILING and "stop_price" in given:
        message = (
            "A trailing stop follows the price by a distance, not from a price: "
            "give stop_loss.trail_percent or stop_loss.trail_amount instead of stop_price."
        )
        raise TargetError([FieldError("stop_loss.stop_price", message)])
    if kind is ExitKind.TRAILING:
        field = _one_of(given, ("trail_percent", "trail_amount", "percent", "amount"), "stop_loss")
    else:
        field = _one_of(given, ("stop_price", "percent", "amount"), "stop_loss")
    number = _number(f"stop_loss.{field}", _reader(field), given[field])
    limit = _stop_limit_price(given, kind)
    target = PriceTarget(value=number, unit=_UNITS[field], kind=kind, limit_price=limit)
    return _checked_stop(target, f"stop_loss.{field}")


def _stop_kind(given: Mapping[str, Value]) -> ExitKind:
    trails = "trail_percent" in given or "trail_amount" in given
    if "type" not in given:
        return ExitKind.TRAILING if trails else ExitKind.MARKET
    try:
        kind = as_choice(given["type"], STOP_TYPES)
    except FieldValueError:
        names = ", ".join(STOP_TYPES)
        message = f"stop_loss.type must be one of {names}."
        raise TargetError([FieldError("stop_loss.type", message)]) from None
    if trails and kind is not ExitKind.TRAILING:
        message = "stop_loss.trail_percent and trail_amount need type trailing_stop."
        raise TargetError([FieldError("stop_loss.type", message)])
    return kind


def _stop_limit_price(given: Mapping[str, Value], kind: ExitKind) -> Decimal | None:
    if kind is ExitKind.LIMIT:
        if "limit_price" not in given:
            message = (
                "stop_loss.limit_price is needed for a stop_limit: the limit price of the "
                "order placed once the stop triggers."
            )
            raise TargetError([FieldError("stop_loss.limit_price", message)])
        return _number("stop_loss.limit_price", as_positive, given["limit_price"])
    if "limit_price" in given:
        message = "stop_loss.limit_price is only for type stop_limit."
        raise TargetError([FieldError("stop_loss.limit_price", message)])
    return None


def _object(names: Names, value: JsonObject) -> dict[str, Value]:
    given, errors = names.read(value)
    if errors:
        raise TargetError(errors)
    return given


def _one_of(given: Mapping[str, Value], choices: tuple[str, ...], target: str) -> str:
    present = [name for name in choices if name in given]
    if len(present) == 1:
        return present[0]
    if not present:
        message = f"{target} needs one of {', '.join(choices)}."
        raise TargetError([FieldError(target, message)])
    message = f"{target} has {' and '.join(present)}: give one of them."
    raise TargetError([FieldError(target, message)])


def _reader(field: str) -> Callable[[Value], Decimal]:
    return _percent if _UNITS[field] is PriceUnit.PERCENT else as_positive


_READERS: Mapping[str, Callable[[Value], PriceTarget]] = MappingProxyType(
    {
        "take_profit": _flat_take_profit,
        "take_profit_percent": _percent_field("take_profit_percent"),
        "stop_loss": _flat_stop_loss,
        "stop_loss_percent": _percent_field("stop_loss_percent"),
        "trailing_stop": _trailing_stop,
    }
)

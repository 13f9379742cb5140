"""Turn an alert's fields into the `Alert` the router acts on, or say what is wrong with each.

Synonyms are folded (``long`` → buy, ``exit`` → close), numbers given as text become exact
decimals, ``50%`` becomes a percentage of equity (buy, sell) or of the position (closes),
``{{strategy.market_position}}`` / ``{{strategy.position_size}}`` fill the target position,
TradersPost's ``sentiment`` turns a buy or sell into the close it means (`traderspost`), and
take-profit and stop-loss arrive in any of their shapes (`targets`). Checks between fields
that only the whole alert shows come last (`rules`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from types import MappingProxyType

from pydantic import ValidationError

from libs.common.messages import Action, Alert, MarketPosition, OrderType, QuantityType
from services.ingress.domain import rules, traderspost
from services.ingress.domain.instruments import parse_instrument
from services.ingress.domain.targets import read_targets
from services.ingress.domain.values import (
    FieldValueError,
    Value,
    as_choice,
    as_decimal,
    as_positive,
    as_text,
    as_time,
)
from services.ingress.errors import FieldError, InvalidAlertError

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
        "add": Action.ADD,
    }
)
CLOSES = rules.CLOSES
QUANTITY_TYPES = traderspost.QUANTITY_TYPES
# An alert enters at market or at a limit; stops are what take_profit and stop_loss are for.
ORDER_TYPES = MappingProxyType({"market": OrderType.MARKET, "limit": OrderType.LIMIT})
MARKET_POSITIONS = MappingProxyType({p.value: p for p in MarketPosition})
SENTIMENTS = traderspost.SENTIMENTS
PERCENT_TYPES = frozenset({QuantityType.PERCENT_EQUITY, QuantityType.PERCENT_POSITION})
MIN_LEVERAGE, MAX_LEVERAGE = Decimal(1), Decimal(125)
_WHEN = "when market_position"


def _leverage(value: Value) -> Decimal:
    if isinstance(value, str):
        value = value.strip().removesuffix("x").removesuffix("X")
    leverage = as_decimal(value)
    if not MIN_LEVERAGE <= leverage <= MAX_LEVERAGE:
        raise FieldValueError(f"must be from {MIN_LEVERAGE} to {MAX_LEVERAGE} (times)")
    return leverage


# field name in the alert → (name in `Alert`, converter)
_SIMPLE: Mapping[str, tuple[str, Callable[[Value], object]]] = MappingProxyType(
    {
        "action": ("action", lambda v: as_choice(v, ACTIONS)),
        "symbol": ("instrument", lambda v: parse_instrument(as_text(v, max_length=200))),
        "account": ("account", lambda v: as_text(v, max_length=64)),
        "order_type": ("order_type", lambda v: as_choice(v, ORDER_TYPES)),
        "price": ("price", as_positive),
        "leverage": ("leverage", _leverage),
        "position_size": ("position_size", as_decimal),
        "market_position": ("market_position", lambda v: as_choice(v, MARKET_POSITIONS)),
        "signal_price": ("signal_price", as_positive),
        "client_order_id": ("client_order_id", lambda v: as_text(v, max_length=36)),
        "id": ("sender_id", lambda v: as_text(v, max_length=128)),
        "strategy": ("strategy", lambda v: as_text(v, max_length=500, multiline=True)),
        "comment": ("comment", lambda v: as_text(v, max_length=500, multiline=True)),
        "time": ("alert_time", as_time),
    }
)


def to_alert(fields: Mapping[str, Value]) -> Alert:
    """Return the normalised alert; raise `InvalidAlertError` listing every field's problem."""
    values, errors = _converted(fields)
    errors += [FieldError(n, f"{n} is missing.") for n in ("action", "symbol") if n not in fields]
    written = values.get("action")
    fields, problems = _sentiment(fields, values)
    targets, target_problems = read_targets(fields)
    values.update(targets)
    errors += problems + target_problems + _entry(fields, values) + _cancelled_order(fields, values)
    errors += _sizing(fields, values) + _consistency(fields, values)
    if errors:
        raise InvalidAlertError(errors)
    try:
        alert = Alert.model_validate(values)
    except ValidationError as exc:  # every rule is checked above; a safety net, not a path
        raise InvalidAlertError([FieldError("body", "The message is not a valid alert.")]) from exc
    alert, errors = rules.check(alert, written if isinstance(written, Action) else alert.action)
    if errors:
        raise InvalidAlertError(errors)
    return alert


def _converted(fields: Mapping[str, Value]) -> tuple[dict[str, object], list[FieldError]]:
    values: dict[str, object] = {}
    errors: list[FieldError] = []
    for name, (target, convert) in _SIMPLE.items():
        if name in fields:
            try:
                values[target] = convert(fields[name])
            except FieldValueError as problem:
                errors.append(FieldError(name, f"{name} {problem}."))
    return values, errors


def _sentiment(
    fields: Mapping[str, Value], values: dict[str, object]
) -> tuple[Mapping[str, Value], list[FieldError]]:
    """Apply TradersPost's ``sentiment`` to the action; a flat one closes everything, so the
    quantity given no longer counts.
    """
    action = values.get("action")
    if "sentiment" not in fields or not isinstance(action, Action):
        return fields, []
    try:
        sentiment = as_choice(fields["sentiment"], SENTIMENTS)
        resolved = traderspost.resolve(action, sentiment)
    except FieldValueError as problem:
        return fields, [FieldError("sentiment", f"sentiment {problem}.")]
    values["action"] = resolved.action
    if not resolved.close_all:
        return fields, []
    return {k: v for k, v in fields.items() if k not in ("quantity", "quantity_type")}, []


def _entry(fields: Mapping[str, Value], values: dict[str, object]) -> list[FieldError]:
    """``entry 60000``: a limit entry at that price (``order_type`` limit with ``price``)."""
    if "entry" not in fields:
        return []
    if "price" in fields:
        return [FieldError("entry", "entry and price both give the limit price: give one.")]
    if values.get("order_type", OrderType.LIMIT) is not OrderType.LIMIT:
        return [FieldError("entry", "entry is a limit price, but order_type is market.")]
    try:
        values["price"] = as_positive(fields["entry"])
    except FieldValueError as problem:
        return [FieldError("entry", f"entry {problem}.")]
    values["order_type"] = OrderType.LIMIT
    return []


def _cancelled_order(fields: Mapping[str, Value], values: dict[str, object]) -> list[FieldError]:
    """In a cancel, ``id`` names the order to cancel (its client order id), as
    ``client_order_id`` does: a cancel is told apart from a resend by its body.
    """
    if values.get("action") is not Action.CANCEL or "id" not in fields:
        return []
    values.pop("sender_id", None)
    if "client_order_id" in fields:
        return [FieldError("id", "id and client_order_id both name the order to cancel.")]
    try:
        values["client_order_id"] = as_text(fields["id"], max_length=36)
    except FieldValueError as problem:
        return [FieldError("id", f"id (the order to cancel) {problem}.")]
    return []


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
    if isinstance(value, str) and value.strip().lower() in traderspost.RISK_SIZED:
        refusal = f"quantity_type {value.strip()} {traderspost.RISK_SIZED_REFUSAL}."
        raise _BadSize("quantity_type", refusal)
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
    if values.get("order_type") is OrderType.LIMIT and not {"price", "entry"} & set(fields):
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

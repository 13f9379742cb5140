"""Read an alert body, whatever its content type: a JSON object or a one-line text command.

The result is each field under its canonical name (aliases folded, case ignored) with its raw
value: text, or an exact `Decimal` for a JSON number (never a float). What the values mean is
`normalise`'s job; here a body is refused only when it cannot be read at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Literal

from services.ingress.domain.names import Names
from services.ingress.domain.textgrammar import parse_text
from services.ingress.domain.values import JsonObject, Value, clip, shown
from services.ingress.errors import FieldError, InvalidAlertError, invalid

FIELDS = frozenset(
    {
        "action",
        "symbol",
        "account",
        "quantity",
        "quantity_type",
        "order_type",
        "price",
        "entry",
        "take_profit",
        "take_profit_percent",
        "stop_loss",
        "stop_loss_percent",
        "trailing_stop",
        "leverage",
        "position_size",
        "market_position",
        "sentiment",
        "signal_price",
        "client_order_id",
        "id",
        "strategy",
        "comment",
        "time",
        "interval",
        "extras",
        "passphrase",
    }
)
# As documented (the case of a name is ignored when reading it).
ALIASES = MappingProxyType(
    {
        "ticker": "symbol",
        "qty": "quantity",
        "contracts": "quantity",
        "amount": "quantity",
        "quantityType": "quantity_type",
        "type": "order_type",
        "orderType": "order_type",
        "limit_price": "price",
        "limitPrice": "price",
        "tp": "take_profit",
        "takeProfit": "take_profit",
        "tp_percent": "take_profit_percent",
        "sl": "stop_loss",
        "stopLoss": "stop_loss",
        "sl_percent": "stop_loss_percent",
        "trail": "trailing_stop",
        "signalPrice": "signal_price",
        "clientOrderId": "client_order_id",
        "order_id": "client_order_id",
    }
)
NAMES = Names(FIELDS, ALIASES)
# Accepted so that templates written for other tools work unchanged, and otherwise ignored.
IGNORED = frozenset({"interval", "extras"})
MAX_ERRORS = 20
_SEND = "send JSON or a line like 'buy BTCUSDT 0.01'"
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class ParsedBody:
    """The body's text and its fields by canonical name (the passphrase kept apart)."""

    text: str
    kind: Literal["json", "text"]
    fields: Mapping[str, Value]
    passphrase: str | None


def parse_body(body: bytes) -> ParsedBody:
    """Return the fields of an alert body; raise `InvalidAlertError` when it cannot be read."""
    text = _decode(body)
    kind: Literal["json", "text"] = "json" if text[0] in "{[" else "text"
    pairs = _json_pairs(text) if kind == "json" else parse_text(text)
    fields = canonical_fields(pairs)
    passphrase = fields.pop("passphrase", None)
    secret = _passphrase_text(passphrase) if passphrase is not None else None
    return ParsedBody(text, kind, MappingProxyType(fields), secret)


def _decode(body: bytes) -> str:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid("body", f"The message is not UTF-8 text; {_SEND}.") from None
    text = text.removeprefix("\ufeff").strip()
    if not text:
        raise invalid("body", f"The message is empty; {_SEND}.")
    return text


def _refuse_constant(name: str) -> Value:
    raise ValueError(f"{name} is not a number")


def _json_pairs(text: str) -> JsonObject:
    try:
        document = json.loads(
            text,
            parse_float=Decimal,
            parse_int=Decimal,  # no int limit, no float: every number stays exact
            parse_constant=_refuse_constant,
            object_pairs_hook=JsonObject,
        )
    except RecursionError:
        raise invalid("body", "The message is nested too deeply to be an alert.") from None
    except ValueError as exc:  # JSONDecodeError included; its message has no body content
        message = f"The message looks like JSON but is not valid JSON: {exc}."
        raise invalid("body", message) from None
    if not isinstance(document, JsonObject):
        raise invalid("body", 'The message must be one JSON object, like {"action": "buy", …}.')
    return document


def canonical_fields(pairs: Iterable[tuple[str, Value]]) -> dict[str, Value]:
    """Return ``{canonical name: value}``; refuse unknown, repeated or unreadable fields."""
    readable: list[tuple[str, Value]] = []
    errors: list[FieldError] = []
    for key, value in pairs:
        if _SURROGATE.search(key) or (isinstance(value, str) and _SURROGATE.search(value)):
            safe = _SURROGATE.sub("?", key)
            errors.append(
                FieldError(clip(safe), f"{shown(safe)} holds text that is not valid Unicode.")
            )
        else:
            readable.append((key, value))
    fields, problems = NAMES.read(readable)
    errors += problems
    if errors:
        raise InvalidAlertError(errors[:MAX_ERRORS])
    for name in IGNORED:
        fields.pop(name, None)
    return fields


def _passphrase_text(value: Value) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if not isinstance(value, str):
        raise invalid("passphrase", "passphrase must be text.")
    return value

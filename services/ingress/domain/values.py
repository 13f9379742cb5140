"""Turn one alert field's raw value (text, an exact JSON number…) into a typed value.

Each function raises `FieldValueError` with the end of a sentence that starts with the field's
name ("quantity must be more than 0"), so the answer reads well to a trader.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TypeVar

from libs.common.messages.types import control_character_problem

# What a parsed body may hold: JSON numbers arrive as Decimal (never float), text as str,
# a JSON object as a `JsonObject` (its pairs in order).
Value = str | Decimal | int | bool | None | list[object] | dict[str, object]


class JsonObject(list[tuple[str, Value]]):
    """A JSON object as its (key, value) pairs, so repeated keys are seen, not overwritten."""


E = TypeVar("E", bound=StrEnum)

MAX_ADJUSTED_EXPONENT = 15  # 10^15: more than any price or quantity on any exchange
MIN_EXPONENT = -24  # 24 decimal places
MAX_DIGITS = 36
# ASCII digits only: Python's \d (and Decimal) would read Arabic-Indic or fullwidth digits.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
_PLACEHOLDER = re.compile(r"\{\{[^{}]*\}\}")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_SHOWN = 40
# Seconds since 1970 of 2000-01-01 and 2100-01-01: anything outside is not an alert time.
_EPOCH_MIN, _EPOCH_MAX = 946_684_800, 4_102_444_800
_MILLISECONDS_FROM = 100_000_000_000


class FieldValueError(ValueError):
    """A field's value cannot be used; the message completes "<field> …"."""


def clip(text: str) -> str:
    """Return ``text`` shortened for an error message (a body may hold kilobytes of it), its
    control characters shown as '?'.
    """
    text = _UNPRINTABLE.sub("?", text)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def shown(text: str) -> str:
    """Return ``text`` quoted and shortened, for an error message."""
    return f"'{clip(text)}'"


def check_placeholder(text: str) -> None:
    """Refuse a TradingView placeholder TradingView did not replace (a sign of the wrong alert
    type, e.g. ``{{strategy.order.action}}`` in an indicator alert).
    """
    found = _PLACEHOLDER.search(text)
    if found:
        raise FieldValueError(
            f"contains {shown(found.group())}, which TradingView did not replace: check its "
            "spelling (strategy placeholders work only in alerts created on a strategy)"
        )


def as_text(value: Value, *, max_length: int, multiline: bool = False) -> str:
    """Return a non-empty, printable text value (numbers are taken as written), stripped;
    ``multiline`` text may hold tabs and line breaks, no other control character.
    """
    if isinstance(value, Decimal) and value.is_finite():
        value = str(value)
    if not isinstance(value, str):
        raise FieldValueError("must be text")
    text = value.strip()
    if not text:
        raise FieldValueError("is empty")
    problem = control_character_problem(text, multiline=multiline)
    if problem is not None:
        raise FieldValueError(problem)
    check_placeholder(text)
    if len(text) > max_length:
        raise FieldValueError(f"is longer than {max_length} characters")
    return text


def as_decimal(value: Value) -> Decimal:
    """Return an exact, finite number of sane size, given as a JSON number or as text."""
    if isinstance(value, bool) or not isinstance(value, (str, Decimal, int)):
        raise FieldValueError("must be a number")
    number = _from_text(value) if isinstance(value, str) else Decimal(value)
    if not number.is_finite():
        raise FieldValueError("must be a finite number")
    _, digits, exponent = number.as_tuple()
    if not isinstance(exponent, int) or number.adjusted() >= MAX_ADJUSTED_EXPONENT:
        raise FieldValueError("is too large")
    if exponent < MIN_EXPONENT or len(digits) > MAX_DIGITS:
        raise FieldValueError(f"has too many digits (at most {-MIN_EXPONENT} decimal places)")
    return number


def _from_text(value: str) -> Decimal:
    text = value.strip()
    check_placeholder(text)
    if len(text) > MAX_DIGITS + 8 or not _NUMBER.fullmatch(text):
        raise FieldValueError(f"must be a number, not {shown(text)}")
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # the pattern admits only valid numbers; belt and braces
        raise FieldValueError(f"must be a number, not {shown(text)}") from exc


def as_positive(value: Value) -> Decimal:
    """Return a number above zero."""
    number = as_decimal(value)
    if number <= 0:
        raise FieldValueError("must be more than 0")
    return number


def as_choice(value: Value, choices: Mapping[str, E]) -> E:
    """Return the member ``choices`` maps the (case-insensitive) text to."""
    if not isinstance(value, str):
        raise FieldValueError(f"must be one of {', '.join(sorted(set(choices)))}")
    text = value.strip()
    check_placeholder(text)
    found = choices.get(text.lower())
    if found is None:
        names = ", ".join(sorted({member.value for member in choices.values()}))
        raise FieldValueError(f"is {shown(text)}; use one of {names}")
    return found


def as_time(value: Value) -> datetime:
    """Return a UTC time from ISO 8601 text (``{{time}}``) or seconds/milliseconds since 1970."""
    if isinstance(value, str) and not _NUMBER.fullmatch(value.strip()):
        return _iso_time(value.strip())
    seconds = as_decimal(value)
    if seconds >= _MILLISECONDS_FROM:
        seconds /= 1000
    if not _EPOCH_MIN <= seconds < _EPOCH_MAX:
        raise FieldValueError("is not a time between 2000 and 2100")
    return datetime.fromtimestamp(float(seconds), UTC)


def _iso_time(text: str) -> datetime:
    check_placeholder(text)
    try:
        parsed = datetime.fromisoformat(text) if len(text) <= 40 else None
        # TradingView's times are UTC; a time without a zone is taken as UTC too.
        aware = parsed.replace(tzinfo=parsed.tzinfo or UTC) if parsed else None
        in_range = aware is not None and _EPOCH_MIN <= aware.timestamp() < _EPOCH_MAX
    except (ValueError, OverflowError):
        aware, in_range = None, False
    if aware is None:
        raise FieldValueError(f"must be a time like 2026-01-02T03:04:05Z, not {shown(text)}")
    if not in_range:
        raise FieldValueError("is not a time between 2000 and 2100")
    return aware.astimezone(UTC)

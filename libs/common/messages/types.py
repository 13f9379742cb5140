"""Field types of the messages and of every API: exact decimals, UTC times, printable text.

The input rule every service applies to what it is sent (issue 15): text holds no control
character (NUL, escape, line breaks in single-line text) and no lone surrogate, numbers are
written with ASCII digits only. `Text` and `MultilineText` are the one validator of text, for
API models and path or query parameters alike; the amount types refuse non-ASCII digits.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
)


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# C0 and C1 control characters (NUL among them: Postgres refuses it in text), DEL, and lone
# surrogates (not encodable as UTF-8). Multi-line text may hold tabs and line breaks.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# The same rule as JSON Schema patterns, for the OpenAPI documents (surrogates cannot be
# written in a pattern; they are refused all the same).
TEXT_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"
MULTILINE_TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
CONTROL_CHARACTERS = "must not contain control characters (such as NUL or a line break)"
CONTROL_CHARACTERS_BUT_LINES = "must not contain control characters (such as NUL)"


def control_character_problem(text: str, *, multiline: bool = False) -> str | None:
    """Return why ``text`` is refused (completing "<field> …"), or None when it is printable."""
    if multiline:
        return CONTROL_CHARACTERS_BUT_LINES if _CONTROL_BUT_LINES.search(text) else None
    return CONTROL_CHARACTERS if _CONTROL.search(text) else None


# Pydantic checks the pattern in Rust, and refuses a lone surrogate as "not a valid string" by
# itself; the APIs' error answers replace the pattern in the message by `CONTROL_CHARACTERS`.
Text = Annotated[str, StringConstraints(pattern=TEXT_PATTERN)]
"""Single-line text an API accepts: no control character, no lone surrogate."""
MultilineText = Annotated[str, StringConstraints(pattern=MULTILINE_TEXT_PATTERN)]
"""Free text an API accepts: tabs and line breaks allowed, other control characters not."""


def _printable_secret(value: object) -> object:
    # Checked before it becomes a SecretStr; the error answers never echo what was sent.
    if isinstance(value, str) and control_character_problem(value) is not None:
        raise ValueError(CONTROL_CHARACTERS)
    return value


SecretText = Annotated[
    SecretStr,
    BeforeValidator(_printable_secret),
    Field(json_schema_extra={"pattern": TEXT_PATTERN}),
]
"""A secret an API accepts (a key, a passphrase), under the same rule as `Text`."""


def _ascii_digits(value: object) -> object:
    # Python's Decimal reads Arabic-Indic or fullwidth digits as if they were 0-9: refuse them.
    if isinstance(value, str) and not value.isascii():
        raise ValueError("must be a number written with the digits 0-9")
    return value


AsciiNumber = BeforeValidator(_ascii_digits)
"""Metadata for a `Decimal` field: refuse numbers written with non-ASCII digits."""

_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_8601(value: object) -> object:
    # Pydantic reads "0.5" or "1700000000" as seconds since 1970; an API takes ISO 8601 only.
    if isinstance(value, str) and not _ISO_DAY.match(value):
        raise ValueError("must be a date like 2026-01-02 or a time like 2026-01-02T03:04:05Z")
    return value


Iso8601 = BeforeValidator(_iso_8601)
"""Metadata for a `date` or `datetime` parameter: ISO 8601 text only, never a number."""


# Quantities and prices: exact, finite, serialised as JSON strings so no float touches them.
# Bounded: no real amount comes near 1e30 or needs more than 30 decimals, and asyncpg silently
# stores 0 for a Decimal of 1e131072 or more; refuse such values at the boundary instead.
AMOUNT_LIMIT = Decimal("1e30")
MAX_DECIMALS = 30
_AMOUNT = {"allow_inf_nan": False, "max_digits": 60, "decimal_places": MAX_DECIMALS}
Amount = Annotated[Decimal, AsciiNumber, Field(gt=-AMOUNT_LIMIT, lt=AMOUNT_LIMIT, **_AMOUNT)]
PositiveAmount = Annotated[Decimal, AsciiNumber, Field(gt=0, lt=AMOUNT_LIMIT, **_AMOUNT)]
NonNegativeAmount = Annotated[Decimal, AsciiNumber, Field(ge=0, lt=AMOUNT_LIMIT, **_AMOUNT)]
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
ShortText = Annotated[str, Field(max_length=500)]
# What a trader names things with (accounts, webhooks, keys): printable, as every API takes it.
Label = Annotated[Text, Field(min_length=1, max_length=64)]


def utcnow() -> datetime:
    """Return the current time in UTC (the one clock default; tests pass times explicitly)."""
    return datetime.now(UTC)


class FrozenModel(BaseModel):
    """An immutable value that refuses unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

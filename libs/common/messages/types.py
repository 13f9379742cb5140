"""Field types of the messages: exact decimals and UTC times."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# Quantities and prices: exact, finite, serialised as JSON strings so no float touches them.
# Bounded: no real amount comes near 1e30 or needs more than 30 decimals, and asyncpg silently
# stores 0 for a Decimal of 1e131072 or more; refuse such values at the boundary instead.
AMOUNT_LIMIT = Decimal("1e30")
MAX_DECIMALS = 30
_AMOUNT = {"allow_inf_nan": False, "max_digits": 60, "decimal_places": MAX_DECIMALS}
Amount = Annotated[Decimal, Field(gt=-AMOUNT_LIMIT, lt=AMOUNT_LIMIT, **_AMOUNT)]
PositiveAmount = Annotated[Decimal, Field(gt=0, lt=AMOUNT_LIMIT, **_AMOUNT)]
NonNegativeAmount = Annotated[Decimal, Field(ge=0, lt=AMOUNT_LIMIT, **_AMOUNT)]
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
ShortText = Annotated[str, Field(max_length=500)]
Label = Annotated[str, Field(min_length=1, max_length=64)]


def utcnow() -> datetime:
    """Return the current time in UTC (the one clock default; tests pass times explicitly)."""
    return datetime.now(UTC)


class FrozenModel(BaseModel):
    """An immutable value that refuses unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

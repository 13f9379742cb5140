"""Field types of the messages: exact decimals and UTC times."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# Quantities and prices: exact, finite, serialised as JSON strings so no float touches them.
Amount = Annotated[Decimal, Field(allow_inf_nan=False)]
PositiveAmount = Annotated[Decimal, Field(allow_inf_nan=False, gt=0)]
NonNegativeAmount = Annotated[Decimal, Field(allow_inf_nan=False, ge=0)]
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
ShortText = Annotated[str, Field(max_length=500)]
Label = Annotated[str, Field(min_length=1, max_length=64)]


def utcnow() -> datetime:
    """Return the current time in UTC (the one clock default; tests pass times explicitly)."""
    return datetime.now(UTC)


class FrozenModel(BaseModel):
    """An immutable value that refuses unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

"""What each event counts towards a tenant's usage, and how counters read back. Pure: no I/O.

Counted per tenant per UTC day and per UTC month of the event's ``occurred_at``:

- ``alerts_accepted``: alerts ingress stored (``intent.accepted``), whatever came of them;
- ``alerts_rejected`` and ``alerts_rejected.<reason>``: intents the router refused;
- ``orders_placed``: orders an exchange accepted (``order.submitted``);
- ``orders_filled``: orders with at least one fill, each counted once, on its first
  ``order.filled`` (a partly filled order that is then canceled still counts).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from pydantic import ConfigDict, Field

from libs.common.messages import Event, IntentAccepted, IntentRejected, OrderFilled, OrderSubmitted
from libs.common.messages.types import FrozenModel
from services.billing import examples
from services.billing.errors import InvalidRequestError

ALERTS_ACCEPTED = "alerts_accepted"
ALERTS_REJECTED = "alerts_rejected"
ORDERS_PLACED = "orders_placed"
ORDERS_FILLED = "orders_filled"
REASON_SEPARATOR = "."
MAX_DAYS = 366
MAX_MONTHS = 60
# Far enough from date's limits that a period's arithmetic never overflows.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9998, 12, 31)


class Period(StrEnum):
    DAY = "day"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class Count:
    """The counters one event adds one to; ``once_per_order`` for fills."""

    tenant_id: str
    message_id: str
    day: date
    metrics: tuple[str, ...]
    once_per_order: str | None = None

    @property
    def month(self) -> date:
        return self.day.replace(day=1)


def count_of(event: Event) -> Count | None:
    """Return what ``event`` counts towards, or None if it counts towards nothing."""
    metrics: tuple[str, ...]
    once: str | None = None
    if isinstance(event, IntentAccepted):
        metrics = (ALERTS_ACCEPTED,)
    elif isinstance(event, IntentRejected):
        metrics = (ALERTS_REJECTED, f"{ALERTS_REJECTED}{REASON_SEPARATOR}{event.reason.value}")
    elif isinstance(event, OrderSubmitted):
        metrics = (ORDERS_PLACED,)
    elif isinstance(event, OrderFilled):
        metrics, once = (ORDERS_FILLED,), event.client_order_id
    else:
        return None
    day = event.occurred_at.date()
    return Count(event.tenant_id, event.message_id, day, metrics, once)


class UsageRow(FrozenModel):
    """One tenant's usage in one day or month."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.USAGE]})

    tenant_id: str
    period: Period
    period_start: date
    alerts_accepted: int = 0
    alerts_rejected: int = 0
    alerts_rejected_by_reason: dict[str, int] = Field(default_factory=dict)
    orders_placed: int = 0
    orders_filled: int = 0


def fold(period: Period, counters: Iterable[tuple[str, date, str, int]]) -> list[UsageRow]:
    """Turn ``(tenant, period_start, metric, count)`` rows into one `UsageRow` per period."""
    totals: dict[tuple[str, date], dict[str, int]] = {}
    reasons: dict[tuple[str, date], dict[str, int]] = {}
    for tenant_id, start, metric, count in counters:
        key = (tenant_id, start)
        name, _, reason = metric.partition(REASON_SEPARATOR)
        totals.setdefault(key, {})
        if reason:
            reasons.setdefault(key, {})[reason] = count
        else:
            totals[key][name] = count
    return [
        UsageRow.model_validate(
            {
                "tenant_id": tenant_id,
                "period": period,
                "period_start": start,
                "alerts_rejected_by_reason": reasons.get((tenant_id, start), {}),
                **fields,
            }
        )
        for (tenant_id, start), fields in sorted(totals.items())
    ]


def period_range(
    period: Period, start: date | None, end: date | None, today: date
) -> tuple[date, date]:
    """Return the first and last period starts to report: the last 30 days or 12 months."""
    for day in (start, end):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise InvalidRequestError(f"Ask for days between {FIRST_DAY} and {LAST_DAY}.")
    end = end or today
    if period is Period.DAY:
        start = start or end - timedelta(days=29)
    else:
        start, end = (start or _months_before(end, 11)).replace(day=1), end.replace(day=1)
    if start > end:
        raise InvalidRequestError(f"'from' ({start}) is after 'to' ({end}).")
    too_long = (
        (end - start).days > MAX_DAYS
        if period is Period.DAY
        else (_month_index(end) - _month_index(start) >= MAX_MONTHS)
    )
    if too_long:
        limit = f"{MAX_DAYS} days" if period is Period.DAY else f"{MAX_MONTHS} months"
        raise InvalidRequestError(f"Ask for at most {limit} at a time.")
    return start, end


def _month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def _months_before(d: date, months: int) -> date:
    index = _month_index(d) - months
    return date(index // 12, index % 12 + 1, 1)

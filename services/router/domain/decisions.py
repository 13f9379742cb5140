"""What a decision takes in and gives back: plain values, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from libs.common.messages import (
    AccountMode,
    OrderSpec,
    RejectReason,
)
from libs.common.messages.types import FrozenModel, Label

# (account label, ccxt symbol) → net position in base units, signed (negative = short).
Positions = Mapping[tuple[str, str], Decimal]


@dataclass(frozen=True, slots=True)
class QuotaState:
    """Usage counted so far in the current windows.

    ``already_counted``: an earlier delivery of this very intent was counted (a redelivery),
    so the quotas must not refuse it a second time.
    """

    alerts_this_hour: int = 0
    orders_today: int = 0
    already_counted: bool = False


@dataclass(frozen=True, slots=True)
class QuotaLimits:
    """The limits in force for this tenant (``None``: unlimited)."""

    alerts_per_hour: int | None = None
    orders_per_day: int | None = None


class CancelSpec(FrozenModel):
    """A cancel to send: a `CancelOrders` without its envelope and ids.

    ``client_order_id``: the one order to cancel; None cancels every open order Sparky placed
    in the symbol on the account.
    """

    account_label: Label
    exchange_id: str
    mode: AccountMode
    symbol: str
    client_order_id: str | None = None


@dataclass(frozen=True, slots=True)
class Rejection:
    """The intent is refused; ``message`` tells the trader why in plain words.

    ``counts_alert`` is False when the alert must not count against the hourly quota (the
    tenant is unknown or inactive, or the quota itself refused it).
    """

    reason: RejectReason
    message: str
    limits: QuotaLimits = field(default_factory=QuotaLimits)
    counts_alert: bool = True


@dataclass(frozen=True, slots=True)
class Placement:
    """The intent becomes these orders, placed in this order."""

    orders: tuple[OrderSpec, ...]
    limits: QuotaLimits = field(default_factory=QuotaLimits)


@dataclass(frozen=True, slots=True)
class Cancellation:
    """The intent (a ``cancel``) becomes one cancel; it counts as an alert but is never refused
    for a quota (``limits`` stay empty), since a cancel only reduces risk."""

    cancel: CancelSpec
    limits: QuotaLimits = field(default_factory=QuotaLimits)


Decision = Placement | Cancellation | Rejection


class Refused(Exception):  # noqa: N818 - a control-flow signal inside the pure domain
    """Raised inside the domain to stop at the first failed check."""

    def __init__(self, reason: RejectReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def refuse(reason: RejectReason, message: str) -> Refused:
    """Return the signal that refuses the intent with ``reason`` (``raise refuse(...)``)."""
    return Refused(reason, message)

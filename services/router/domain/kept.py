"""A decision as the router commits it, kept in Redis so a redelivery republishes it as it was.

The router keeps, in the same Lua call that counts the quotas, what it will publish: the orders
(`OrderSpec`, defaults left out), the cancel (`CancelSpec`) or the rejection, the time it
decided, and the message id of every message it publishes. A redelivered intent (the process
died after the commit, before or while publishing) finds it and republishes exactly that, with
the same ``Nats-Msg-Id`` (client order id, ``<intent>:cancel``, ``<intent>:rejected``) and the
same message ids: never decided again, never counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from libs.common.ids import Ulid, new_id
from libs.common.messages import OrderSpec, RejectReason
from libs.common.messages.types import FrozenModel, UtcDatetime
from services.router.domain import checks
from services.router.domain.decisions import (
    Cancellation,
    CancelSpec,
    Decision,
    Placement,
    QuotaLimits,
    Rejection,
)


class Kept(FrozenModel):
    """What one intent became: its orders, its cancel, or why it was refused; when; the
    messages' ids (one per order, one for a cancel or a rejection)."""

    at: UtcDatetime
    ids: tuple[Ulid, ...]
    orders: tuple[OrderSpec, ...] = ()
    cancel: CancelSpec | None = None
    reason: RejectReason | None = None
    message: str | None = None

    def encode(self) -> bytes:
        """Return the compact JSON kept in Redis (fields at their defaults left out)."""
        return self.model_dump_json(exclude_defaults=True).encode()

    @classmethod
    def decode(cls, raw: bytes | str) -> Kept:
        """Read a kept decision back."""
        return cls.model_validate_json(raw)


def rejection(reason: RejectReason, message: str, at: UtcDatetime) -> Kept:
    """Return a rejection to keep, with a new message id."""
    return Kept(at=at, ids=(new_id(),), reason=reason, message=message)


@dataclass(frozen=True, slots=True)
class Commit:
    """What one commit counts and keeps, and what it keeps instead when a limit is found used up
    (another process counted meanwhile)."""

    kept: Kept
    limits: QuotaLimits
    alerts: int
    orders: int
    if_alerts_exceeded: Kept | None = None
    if_orders_exceeded: Kept | None = None


def commit_of(decision: Decision, at: UtcDatetime) -> Commit:
    """Return the commit of ``decision``: count one alert unless it must not count, and each
    order; a refusal for a quota found used up only when that quota has a limit."""
    limits = decision.limits
    if isinstance(decision, Rejection):
        kept = rejection(decision.reason, decision.message, at)
        alerts, orders = int(decision.counts_alert), 0
    elif isinstance(decision, Cancellation):
        kept = Kept(at=at, ids=(new_id(),), cancel=decision.cancel)
        alerts, orders = 1, 0
    else:
        kept = _placement(decision, at)
        alerts, orders = 1, len(decision.orders)
    alert_cap, day_cap = limits.alerts_per_hour, limits.orders_per_day
    return Commit(
        kept,
        limits,
        alerts,
        orders,
        if_alerts_exceeded=_quota(checks.alerts_quota_message(alert_cap), at)
        if alerts and alert_cap is not None
        else None,
        if_orders_exceeded=_quota(checks.orders_quota_message(day_cap, day_cap), at)
        if orders and day_cap is not None
        else None,
    )


def _placement(decision: Placement, at: UtcDatetime) -> Kept:
    return Kept(at=at, ids=tuple(new_id() for _ in decision.orders), orders=decision.orders)


def _quota(message: str, at: UtcDatetime) -> Kept:
    return rejection(RejectReason.QUOTA_EXCEEDED, message, at)

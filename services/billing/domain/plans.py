"""Tenants as billing sees them, and the limits in force for each. Pure: no I/O.

Plans are data (the ``plans`` table); a tenant may carry overrides of single limits (an
enterprise contract). After a failed payment's grace period the fallback plan's limits apply,
overrides included: a lapsed enterprise tenant is a free tenant until it pays.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

from pydantic import Field, model_validator

from libs.common.ids import TenantId
from libs.common.messages.types import FrozenModel, UtcDatetime
from libs.common.records import PlanLimits, TenantRecord, TenantStatus
from services.billing.fsm import Lifecycle

PLAN_NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"
MAX_LIMIT = 1_000_000_000  # a limit beyond is no limit: say null


class PaymentState(StrEnum):
    """Whether the tenant's subscription is paid: ok, failed but in grace, or lapsed."""

    OK = "ok"
    GRACE = "grace"
    LAPSED = "lapsed"


class LimitOverrides(FrozenModel):
    """Per-tenant limits that replace the plan's; a field set to null means unlimited
    (``max_leverage``: no cap of ours, the venue's own).

    Only the fields given count: ``{"max_webhooks": null}`` lifts the webhook limit and keeps
    the plan's other limits.
    """

    live_trading: bool | None = Field(default=None, strict=True)
    max_exchange_accounts: int | None = Field(default=None, ge=0, le=MAX_LIMIT, strict=True)
    max_webhooks: int | None = Field(default=None, ge=0, le=MAX_LIMIT, strict=True)
    max_alerts_per_hour: int | None = Field(default=None, ge=0, le=MAX_LIMIT, strict=True)
    max_orders_per_day: int | None = Field(default=None, ge=0, le=MAX_LIMIT, strict=True)
    max_leverage: int | None = Field(default=None, ge=1, le=125, strict=True)

    @model_validator(mode="after")
    def _live_trading_is_yes_or_no(self) -> LimitOverrides:
        if "live_trading" in self.model_fields_set and self.live_trading is None:
            raise ValueError("live_trading must be true or false, not null")
        return self

    def given(self) -> dict[str, bool | int | None]:
        """Return only the overridden limits (what the database stores)."""
        return self.model_dump(exclude_unset=True)


class Tenant(FrozenModel):
    """One tenant's row: identity, lifecycle, plan and payment standing."""

    tenant_id: TenantId
    name: str = Field(max_length=200)
    lifecycle: Lifecycle
    plan: str = Field(pattern=PLAN_NAME_PATTERN)
    overrides: LimitOverrides = LimitOverrides()
    payment_state: PaymentState = PaymentState.OK
    grace_ends_at: UtcDatetime | None = None
    stripe_customer_id: str | None = None
    stripe_subscription_id: str | None = None
    subscription_status: str | None = None
    stripe_event_at: UtcDatetime | None = None
    created_at: UtcDatetime
    updated_at: UtcDatetime
    deleted_at: UtcDatetime | None = None

    @property
    def deleted(self) -> bool:
        return self.lifecycle is Lifecycle.DELETED


def plan_in_force(tenant: Tenant, fallback_plan: str) -> str:
    """Return the plan whose limits apply now: the fallback once a payment lapsed."""
    return fallback_plan if tenant.payment_state is PaymentState.LAPSED else tenant.plan


def limits_in_force(
    tenant: Tenant, plans: Mapping[str, PlanLimits], fallback_plan: str
) -> PlanLimits:
    """Return the tenant's limits: its plan's with its overrides, or the fallback plan's."""
    if tenant.payment_state is PaymentState.LAPSED:
        return plans[fallback_plan]
    limits = plans[tenant.plan]
    return limits.model_copy(update=tenant.overrides.given())


def tenant_record(
    tenant: Tenant, plans: Mapping[str, PlanLimits], fallback_plan: str
) -> TenantRecord | None:
    """Return what the ``tenants`` bucket should hold for ``tenant`` (None once deleted)."""
    if tenant.deleted:
        return None
    status = TenantStatus.ACTIVE if tenant.lifecycle is Lifecycle.ACTIVE else TenantStatus.SUSPENDED
    return TenantRecord(
        tenant_id=tenant.tenant_id,
        status=status,
        plan=plan_in_force(tenant, fallback_plan),
        limits=limits_in_force(tenant, plans, fallback_plan),
        updated_at=tenant.updated_at,
    )


def grace_over(tenant: Tenant, now: datetime) -> bool:
    """Whether a failed payment's grace period has run out at ``now``."""
    return (
        tenant.payment_state is PaymentState.GRACE
        and tenant.grace_ends_at is not None
        and now >= tenant.grace_ends_at
    )

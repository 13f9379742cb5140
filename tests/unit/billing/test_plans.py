"""The limits in force: the plan's, with overrides, or the fallback's after a lapse."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from libs.common.records import PlanLimits, TenantStatus
from services.billing.domain.plans import (
    LimitOverrides,
    PaymentState,
    Tenant,
    limits_in_force,
    tenant_record,
)
from services.billing.fsm import Lifecycle
from tests import factories

PLANS = {
    "free": factories.plan_limits(),
    "pro": PlanLimits(
        live_trading=True,
        max_exchange_accounts=10,
        max_webhooks=None,
        max_alerts_per_hour=1000,
        max_orders_per_day=10000,
    ),
}


def tenant(**overrides: object) -> Tenant:
    fields: dict[str, object] = {
        "tenant_id": "01J00000000000000000000000",
        "name": "Ada",
        "lifecycle": Lifecycle.ACTIVE,
        "plan": "pro",
        "created_at": factories.T0,
        "updated_at": factories.T0,
    }
    return Tenant.model_validate(fields | overrides)


def test_overrides_replace_only_the_limits_they_name() -> None:
    overrides = LimitOverrides.model_validate({"max_alerts_per_hour": None, "max_webhooks": 4})
    limits = limits_in_force(tenant(overrides=overrides), PLANS, "free")
    assert limits.max_alerts_per_hour is None  # null lifts the limit
    assert limits.max_webhooks == 4
    assert limits.max_orders_per_day == 10000  # the plan's


def test_a_lapsed_payment_gives_the_fallback_plans_limits_overrides_ignored() -> None:
    lapsed = tenant(
        payment_state=PaymentState.LAPSED,
        overrides=LimitOverrides.model_validate({"max_webhooks": 100}),
    )
    assert limits_in_force(lapsed, PLANS, "free") == PLANS["free"]
    record = tenant_record(lapsed, PLANS, "free")
    assert record is not None
    assert record.plan == "free"


def test_a_tenant_in_grace_keeps_its_plan() -> None:
    assert limits_in_force(tenant(payment_state=PaymentState.GRACE), PLANS, "free") == PLANS["pro"]


def test_the_bucket_record_says_suspended_and_a_deleted_tenant_has_none() -> None:
    record = tenant_record(tenant(lifecycle=Lifecycle.SUSPENDED), PLANS, "free")
    assert record is not None
    assert record.status is TenantStatus.SUSPENDED
    assert tenant_record(tenant(lifecycle=Lifecycle.DELETED), PLANS, "free") is None


@pytest.mark.parametrize(
    "bad",
    [{"live_trading": None}, {"max_webhooks": -1}, {"max_webhook": 3}],
)
def test_nonsense_overrides_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        LimitOverrides.model_validate(bad)


def test_overrides_round_trip_through_the_database_form() -> None:
    overrides = LimitOverrides.model_validate({"max_webhooks": None, "live_trading": True})
    assert LimitOverrides.model_validate(overrides.given()).given() == overrides.given()
    assert overrides.given() == {"max_webhooks": None, "live_trading": True}


def test_a_contract_can_set_its_own_leverage_cap_within_what_venues_allow() -> None:
    overrides = LimitOverrides.model_validate({"max_leverage": 50})
    plans = {**PLANS, "pro": PLANS["pro"].model_copy(update={"max_leverage": 20})}
    assert limits_in_force(tenant(overrides=overrides), plans, "free").max_leverage == 50
    assert limits_in_force(tenant(), plans, "free").max_leverage == 20
    assert LimitOverrides.model_validate({"max_leverage": None}).given() == {"max_leverage": None}
    for wrong in (0, 126, "10"):
        with pytest.raises(ValidationError):
            LimitOverrides.model_validate({"max_leverage": wrong})

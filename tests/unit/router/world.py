"""A decision's inputs for unit tests; change a part with `but`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from libs.common.messages import OrderIntent
from libs.common.records import AccountRecord, TenantRecord
from services.router.domain.decide import decide
from services.router.domain.decisions import Decision, Placement, Positions, QuotaState, Rejection
from services.router.domain.layers import TenantSettings
from tests import factories
from tests.helpers.router import NOON, account


@dataclass(frozen=True)
class World:
    """Everything `decide` takes besides the intent; change a part with `but`."""

    tenant: TenantRecord | None = field(
        default_factory=lambda: factories.tenant_record(
            "tenant-a", limits=factories.plan_limits(max_alerts_per_hour=None)
        )
    )
    settings: TenantSettings = field(default_factory=TenantSettings)
    accounts: dict[str, AccountRecord] = field(default_factory=lambda: {"main": account()})
    positions: Positions = field(default_factory=dict)
    quota: QuotaState = field(default_factory=QuotaState)
    now: datetime = NOON

    def but(self, **changes: Any) -> World:
        return replace(self, **changes)

    def decide(self, order_intent: OrderIntent) -> Decision:
        return decide(
            order_intent,
            settings=self.settings,
            tenant=self.tenant,
            accounts=self.accounts,
            positions=self.positions,
            quota=self.quota,
            now=self.now,
        )

    def placed(self, order_intent: OrderIntent) -> Placement:
        decision = self.decide(order_intent)
        assert isinstance(decision, Placement), decision
        return decision

    def rejected(self, order_intent: OrderIntent) -> Rejection:
        decision = self.decide(order_intent)
        assert isinstance(decision, Rejection), decision
        return decision

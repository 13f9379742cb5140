"""Turn one delivered intent into its orders or its rejection: gather, decide, count, publish.

Exactly one output per intent, even when it is delivered again: an intent whose output was
published is recorded as decided (Redis, 8 days) and acknowledged without a second look; a
redelivery before that record is written republishes with the same ``Nats-Msg-Id`` (the
client order id), which JetStream drops within ORDERS' 5-minute duplicate window.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from nats.aio.msg import Msg

from libs.common.auth import Lookup
from libs.common.consumer import Outcome
from libs.common.logs import log_context
from libs.common.messages import OrderIntent, RejectReason
from libs.common.messages.types import utcnow
from libs.common.records import TenantRecord
from services.router import checks
from services.router.accounts import AccountDirectory
from services.router.decisions import Decision, Placement, Rejection
from services.router.domain import decide
from services.router.metrics import DECISION_SECONDS, DECISIONS, INTENT_AGE
from services.router.publisher import Publisher
from services.router.redis_state import Counted, RouterState
from services.router.settings_cache import SettingsCache

log = logging.getLogger(__name__)

FAILURE_REASON = RejectReason.INTERNAL_ERROR
_FAILED = {
    Outcome.GAVE_UP: "a service Sparky needs was unavailable for too long",
    Outcome.POISON: "of an internal error",
    Outcome.MAX_DELIVERIES: "of an internal error",
}


class IntentHandler:
    """The consumer's handler and failure report for INTENTS."""

    def __init__(
        self,
        *,
        state: RouterState,
        cache: SettingsCache,
        tenants: Lookup[TenantRecord],
        accounts: AccountDirectory,
        publisher: Publisher,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._state = state
        self._cache = cache
        self._tenants = tenants
        self._accounts = accounts
        self._publisher = publisher
        self._clock = clock

    async def handle(self, msg: Msg) -> None:
        """Decide one intent and publish the result (raises to have it retried)."""
        intent = OrderIntent.model_validate_json(msg.data)
        with log_context(tenant_id=intent.tenant_id, intent_id=intent.intent_id):
            await self.route(intent)

    async def route(self, intent: OrderIntent) -> None:
        """Decide, count, publish and record one intent."""
        started, now = time.perf_counter(), self._clock()
        tenant_id = intent.tenant_id
        snapshot = await self._state.snapshot(tenant_id, intent.intent_id, now)
        if snapshot.decided is not None:
            DECISIONS.labels("duplicate", "").inc()
            return
        decision = decide(
            intent,
            settings=await self._cache.get(tenant_id),
            tenant=self._tenants.get(tenant_id),
            accounts=self._accounts.of(tenant_id),
            positions=snapshot.positions,
            quota=snapshot.quota,
            now=now,
        )
        decision = await self._count(intent, decision, now)
        outcome = await self._publish(intent, decision, now)
        await self._mark(intent, outcome)
        DECISION_SECONDS.observe(time.perf_counter() - started)
        INTENT_AGE.observe(max(0.0, (self._clock() - intent.received_at).total_seconds()))

    async def _count(self, intent: OrderIntent, decision: Decision, now: datetime) -> Decision:
        if isinstance(decision, Rejection) and not decision.counts_alert:
            return decision
        orders = len(decision.orders) if isinstance(decision, Placement) else 0
        counted = await self._state.count(
            intent.tenant_id, intent.intent_id, now, limits=decision.limits, orders=orders
        )
        if counted is Counted.OK:
            return decision
        # Another replica counted meanwhile (partitions moving between replicas).
        limits = decision.limits
        if counted is Counted.ALERTS_EXCEEDED:
            message = checks.alerts_quota_message(limits.alerts_per_hour or 0)
        else:
            day = limits.orders_per_day or 0
            message = checks.orders_quota_message(day, day)
        return Rejection(RejectReason.QUOTA_EXCEEDED, message, limits, counts_alert=False)

    async def _publish(self, intent: OrderIntent, decision: Decision, now: datetime) -> str:
        if isinstance(decision, Placement):
            await self._publisher.place(intent, decision.orders, now)
            DECISIONS.labels("placed", "").inc()
            log.info("intent placed", extra={"orders": len(decision.orders)})
            return f"placed:{len(decision.orders)}"
        await self._publisher.reject(intent, decision.reason, decision.message, now)
        DECISIONS.labels("rejected", decision.reason.value).inc()
        log.info("intent rejected", extra={"reason": decision.reason.value})
        return f"rejected:{decision.reason.value}"

    async def _mark(self, intent: OrderIntent, outcome: str) -> None:
        # The output is out: never fail the message now, or a give-up would contradict it.
        # Without the record, a redelivery within 5 minutes is still dropped by JetStream.
        try:
            await self._state.mark_decided(intent.tenant_id, intent.intent_id, outcome)
        except Exception:
            log.exception("could not record the intent as decided")

    async def on_failure(self, msg: Msg, outcome: Outcome, exc: BaseException | None) -> None:
        """Tell the trader an intent could not be processed (no order beyond what was sent)."""
        try:
            intent = OrderIntent.model_validate_json(msg.data)
        except ValueError:
            log.warning("an unreadable intent was given up", extra={"outcome": outcome.value})
            return
        with log_context(tenant_id=intent.tenant_id, intent_id=intent.intent_id):
            if await self._decided(intent):
                return
            message = await self._failure_message(intent, outcome)
            await self._publisher.reject(intent, FAILURE_REASON, message, self._clock())
            DECISIONS.labels("failed", outcome.value).inc()
            log.error("intent given up", extra={"outcome": outcome.value, "error": repr(exc)})
            await self._mark(intent, f"failed:{outcome.value}")

    async def _decided(self, intent: OrderIntent) -> bool:
        try:
            snapshot = await self._state.snapshot(intent.tenant_id, intent.intent_id, self._clock())
        except Exception:  # noqa: BLE001 - unknown: report the failure rather than stay silent
            return False
        return snapshot.decided is not None

    async def _failure_message(self, intent: OrderIntent, outcome: Outcome) -> str:
        legs = await self._publisher.published_legs(intent)
        if legs is None:
            placed = (
                "whether its order was sent to the executor could not be confirmed: check "
                "this alert's orders in your trade history before sending it again"
            )
        elif legs == 0:
            placed = "no order was placed. Send it again if you still want it"
        else:
            placed = (
                f"{legs} of its orders had been sent on already and are placed as usual; "
                "any other was not. Check your position before sending it again"
            )
        return f"Sparky could not process this alert because {_FAILED[outcome]}; {placed}."

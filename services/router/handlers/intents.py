"""Turn one delivered intent into its orders or its rejection: read, decide, commit, publish.

Two Redis calls per intent: one read of everything the decision needs, one commit that counts
the quotas and keeps the decision atomically, before anything is published. Exactly one output
per intent, even when it is delivered again: a redelivery (the process died after the commit,
before, while or after publishing) finds the kept decision and republishes exactly it, with the
same message ids and ``Nats-Msg-Id`` (the client order id), which JetStream drops within ORDERS'
5-minute duplicate window (and the executor places a client order id once in any case).

An intent whose tenant is not its subject's is never decided: it raises `TenantMismatchError`,
so the consumer dead-letters it, and ``on_failure`` publishes nothing in either tenant's name.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from nats.aio.msg import Msg
from pydantic import ValidationError

from libs.common.auth import Lookup
from libs.common.consumer import Outcome, tenant_from_subject
from libs.common.logs import log_context
from libs.common.messages import OrderIntent, RejectReason
from libs.common.messages.types import utcnow
from libs.common.records import TenantRecord
from services.router.domain.decide import decide
from services.router.domain.decisions import QuotaLimits
from services.router.domain.kept import Commit, Kept, commit_of, rejection
from services.router.errors import TenantMismatchError, UnreadableIntentError
from services.router.metrics import DECISION_SECONDS, DECISIONS, INTENT_AGE
from services.router.publisher import Publisher
from services.router.store.accounts import AccountDirectory
from services.router.store.redis_state import Counted, RouterState
from services.router.store.settings_cache import SettingsCache

log = logging.getLogger(__name__)

FAILURE_REASON = RejectReason.INTERNAL_ERROR
_FAILED = {
    Outcome.GAVE_UP: "a service Sparky needs was unavailable for too long",
    Outcome.POISON: "of an internal error",
    Outcome.MAX_DELIVERIES: "of an internal error",
}


def decode(msg: Msg) -> OrderIntent:
    """Return the message's intent; raise `TenantMismatchError` if it claims another tenant
    than its subject's, `UnreadableIntentError` if it is no intent (both dead-lettered at
    once by the consumer)."""
    try:
        intent = OrderIntent.model_validate_json(msg.data)
    except ValidationError as exc:
        raise UnreadableIntentError(exc.error_count()) from None
    subject_tenant = tenant_from_subject(msg.subject)
    if intent.tenant_id != subject_tenant:
        raise TenantMismatchError(intent.tenant_id, subject_tenant)
    return intent


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
        intent = decode(msg)
        with log_context(tenant_id=intent.tenant_id, intent_id=intent.intent_id):
            await self.route(intent)

    async def route(self, intent: OrderIntent) -> None:
        """Read, decide, commit (count and keep), then publish what is kept."""
        started, now = time.perf_counter(), self._clock()
        tenant_id = intent.tenant_id
        snapshot = await self._state.snapshot(tenant_id, intent.intent_id, now)
        if snapshot.kept is not None:  # decided by an earlier delivery: publish that, again
            await self._publish(intent, snapshot.kept, republished=True)
        else:
            decision = decide(
                intent,
                settings=await self._cache.get(tenant_id),
                tenant=self._tenants.get(tenant_id),
                accounts=self._accounts.of(tenant_id),
                positions=snapshot.positions,
                quota=snapshot.quota,
                now=now,
            )
            counted, kept = await self._state.commit(
                tenant_id, intent.intent_id, now, commit_of(decision, now)
            )
            if kept is None:  # published by a router of the previous design
                DECISIONS.labels("duplicate", "").inc()
                return
            await self._publish(intent, kept, republished=counted is Counted.DECIDED_BEFORE)
        DECISION_SECONDS.observe(time.perf_counter() - started)
        INTENT_AGE.observe(max(0.0, (self._clock() - intent.received_at).total_seconds()))

    async def _publish(self, intent: OrderIntent, kept: Kept, *, republished: bool) -> None:
        await self._publisher.publish(intent, kept)
        if republished:
            DECISIONS.labels("republished", "").inc()
            log.info("kept decision republished", extra={"orders": len(kept.orders)})
        elif kept.cancel is not None:
            DECISIONS.labels("canceled", "").inc()
            log.info("cancel sent")
        elif kept.reason is None:
            DECISIONS.labels("placed", "").inc()
            log.info("intent placed", extra={"orders": len(kept.orders)})
        else:
            DECISIONS.labels("rejected", kept.reason.value).inc()
            log.info("intent rejected", extra={"reason": kept.reason.value})

    async def on_failure(self, msg: Msg, outcome: Outcome, exc: BaseException | None) -> None:
        """Publish an intent's kept decision, or tell the trader it could not be processed."""
        try:
            intent = decode(msg)
        except TenantMismatchError as foreign:
            DECISIONS.labels("refused", "tenant_mismatch").inc()
            log.warning(
                "an intent claiming another tenant than its subject's was dead-lettered",
                extra={"subject_tenant": foreign.subject_tenant, "claimed": foreign.claimed},
            )
            return
        except UnreadableIntentError:
            log.warning("an unreadable intent was given up", extra={"outcome": outcome.value})
            return
        with log_context(tenant_id=intent.tenant_id, intent_id=intent.intent_id):
            kept = await self._kept(intent)
            if kept is not None and await self._republished(intent, kept):
                return
            now = self._clock()
            failure = rejection(FAILURE_REASON, await self._failure_message(intent, outcome), now)
            if kept is None:  # keep the failure, so no later delivery decides otherwise
                counted, kept = await self._state.commit(
                    intent.tenant_id, intent.intent_id, now, Commit(failure, QuotaLimits(), 0, 0)
                )
                if kept is None or (
                    counted is Counted.DECIDED_BEFORE and await self._republished(intent, kept)
                ):
                    return
            await self._publisher.publish(intent, failure)
            DECISIONS.labels("failed", outcome.value).inc()
            log.error("intent given up", extra={"outcome": outcome.value, "error": repr(exc)})

    async def _kept(self, intent: OrderIntent) -> Kept | None:
        try:
            snapshot = await self._state.snapshot(intent.tenant_id, intent.intent_id, self._clock())
        except Exception:  # noqa: BLE001 - unknown: report the failure rather than stay silent
            return None
        return snapshot.kept

    async def _republished(self, intent: OrderIntent, kept: Kept) -> bool:
        try:
            await self._publish(intent, kept, republished=True)
        except Exception:  # then tell the trader what ORDERS holds of it
            log.exception("could not republish a kept decision of a given-up intent")
            return False
        return True

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

"""``billing.payment_failed`` and ``billing.grace_ending``: once per grace period each.

A failed payment's notice is owed from the commit that started the grace period; the webhook
request publishes it right after, and billing's maintenance job publishes any still owed (a
crash or a NATS outage in between) and, about a day before a grace period ends, its
``grace_ending``. Each is recorded once JetStream stored it, for that grace period: never sent
again for it. Published again after a failure, it is the same message (one id per tenant, kind
and grace period): JetStream drops the repeat, consumers keep one per message id.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from libs.common.messages import GraceEnding, PaymentFailed
from services.billing.domain.plans import PaymentState, Tenant
from services.billing.errors import PublishError
from services.billing.runtime import Runtime
from services.billing.store import notices as store
from services.billing.store.notices import Notice, Owed

log = logging.getLogger(__name__)
BATCH = 100
_EVENTS: dict[Notice, type[PaymentFailed] | type[GraceEnding]] = {
    Notice.PAYMENT_FAILED: PaymentFailed,
    Notice.GRACE_ENDING: GraceEnding,
}


def failure_owed(before: Tenant, after: Tenant) -> Owed | None:
    """Return the ``payment_failed`` notice a change of the tenant started, if any."""
    started = after.grace_ends_at is not None and after.grace_ends_at != before.grace_ends_at
    if not started or after.payment_state is PaymentState.OK or after.grace_ends_at is None:
        return None
    return Owed(Notice.PAYMENT_FAILED, after.tenant_id, after.plan, after.grace_ends_at)


async def announce(rt: Runtime, owed: Owed) -> bool:
    """Publish one notice and record it stored; False (logged) when it stays owed."""
    event = _EVENTS[owed.notice].of(owed.tenant_id, owed.plan, owed.grace_ends_at, rt.now())
    try:
        await rt.events.publish(event)
    except PublishError:
        log.warning("payment notice not published; it stays owed", extra=_extra(owed))
        return False
    async with rt.engine.begin() as conn:
        await store.stored(conn, owed)
    log.info("payment notice published", extra=_extra(owed))
    return True


async def announce_owed(rt: Runtime) -> int:
    """Publish every notice owed or due (a batch of each per call); return how many."""
    ahead = timedelta(hours=rt.settings.grace_ending_notice_hours)
    async with rt.engine.connect() as conn:
        owed = await store.owed(conn, rt.now(), ahead, BATCH)
    sent = 0
    for notice in owed:  # a failure's notice before its grace period's end
        sent += await announce(rt, notice)
    return sent


def _extra(owed: Owed) -> dict[str, str]:
    return {"tenant_id": owed.tenant_id, "notice": owed.notice.name.lower()}

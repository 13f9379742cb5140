"""Tenant deletion: billing's ``tenant.deleted`` purges the tenant's exchange accounts.

One durable consumer, ``executor-tenants`` (filter ``<ns>.events.*.tenant.deleted``), shared by
every replica and read in batches on the one consumption layer. For each event, in order:

1. decode it and check it sits on its own tenant's subject (else dead-letter);
2. refuse a tenant the ``tenants`` bucket still shows: billing removes the record before it
   announces the deletion, so a live record means the event is not (yet) true. Retried while
   the event is younger than `LIVE_WAIT_S` (this replica's copy may lag), then dead-lettered,
   never acted on;
3. delete every account of the tenant: rows and strategy positions (as the tenant, under
   Row-Level Security), every version and the metadata of their keys in Vault (the API's
   identity: the trading identity only reads), and the ``accounts`` bucket entries, including
   any the bucket still holds without a row (a purge interrupted after its commit);
4. log the labels it purged (never a key) and count them.

Nothing is canceled on exchanges: with its record gone from the ``tenants`` bucket the tenant's
orders are refused, and its open orders stay the trader's business on their own exchange.
A repeated event finds nothing left and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from pydantic import ValidationError

from libs.common.consumer import BatchConsumer, BatchSpec, ConsumerPolicy, Outcome, dead_letter
from libs.common.errors import MalformedMessageError, TemporaryError
from libs.common.kv_mirror import KVMirror
from libs.common.messages import TenantDeleted, decode_event
from libs.common.records import AccountRecord, TenantRecord
from libs.common.topology import Durables, Topology
from services.executor.accounts.service import AccountService
from services.executor.config import SERVICE
from services.executor.metrics import ACCOUNTS_PURGED, TENANT_PURGES

log = logging.getLogger(__name__)

DURABLE = Durables.EXECUTOR_TENANTS
KIND = "tenant.deleted"
LIVE_WAIT_S = 60.0
POLICY = ConsumerPolicy(ack_wait_s=30.0, batch_size=20, fill_s=0.02, window=0)


class StillLiveError(MalformedMessageError):
    """The ``tenants`` bucket shows the tenant long after its announced deletion."""


class TenantPurger:
    """Purge the exchange accounts of every tenant billing announces deleted."""

    def __init__(
        self,
        js: JetStreamContext,
        topology: Topology,
        accounts: AccountService,
        mirrors: tuple[KVMirror[TenantRecord], KVMirror[AccountRecord]],
        clock: Callable[[], datetime],
    ) -> None:
        self._js = js
        self._topology = topology
        self._accounts = accounts
        self._tenants, self._account_copies = mirrors
        self._clock = clock
        self._deadletter = topology.deadletter_subject("EVENTS")
        spec = BatchSpec(
            service=SERVICE,
            stream=topology.events_stream,
            durable=DURABLE,
            filter_subject=topology.kind_filter(KIND),
            handler=self._batch,
            deadletter_subject=self._deadletter,
            policy=POLICY,
        )
        self._consumer = BatchConsumer(js, spec)

    async def start(self) -> None:
        """Create or bind the durable consumer and start purging."""
        await self._consumer.start()

    async def stop(self) -> None:
        await self._consumer.stop()

    async def _batch(self, msgs: list[Msg]) -> None:
        """Purge each event's tenant; a `TemporaryError` has the batch retried in place (the
        tenants already purged find nothing the second time)."""
        for msg in msgs:
            await self._one(msg)

    async def _one(self, msg: Msg) -> None:
        try:
            event = self._decode(msg)
            self._check_not_live(event)
        except MalformedMessageError as exc:
            outcome = "refused" if isinstance(exc, StillLiveError) else "malformed"
            TENANT_PURGES.labels(outcome).inc()
            log.warning("tenant.deleted set aside: %s", exc)
            await dead_letter(self._js, self._deadletter, msg, Outcome.POISON, exc)
            return
        labels = await self._accounts.purge_tenant(event.tenant_id, self._bucket_labels(event))
        TENANT_PURGES.labels("purged" if labels else "nothing").inc()
        ACCOUNTS_PURGED.inc(len(labels))
        log.info(
            "deleted tenant's exchange accounts purged",
            extra={"tenant_id": event.tenant_id, "accounts": len(labels), "labels": labels},
        )

    def _decode(self, msg: Msg) -> TenantDeleted:
        try:
            event = decode_event(msg.data)
        except ValidationError as exc:
            raise MalformedMessageError(f"not a valid event: {exc}") from exc
        expected = self._topology.event_subject(event.tenant_id, event.kind)
        if not isinstance(event, TenantDeleted) or msg.subject != expected:
            raise MalformedMessageError(f"a {event.kind} event on {msg.subject}")
        return event

    def _check_not_live(self, event: TenantDeleted) -> None:
        if self._tenants.get(event.tenant_id) is None:
            return
        age_s = (self._clock() - event.occurred_at).total_seconds()
        if age_s < LIVE_WAIT_S:
            raise TemporaryError("the tenants bucket still shows the tenant", retry_after=1.0)
        raise StillLiveError(
            f"tenant {event.tenant_id} is still in the tenants bucket {age_s:.0f} s after its "
            "announced deletion: not purged"
        )

    def _bucket_labels(self, event: TenantDeleted) -> list[str]:
        """Labels the ``accounts`` bucket still holds for the tenant."""
        return [r.label for _, r in self._account_copies.items() if r.tenant_id == event.tenant_id]

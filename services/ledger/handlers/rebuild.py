"""``python -m services.ledger rebuild``: empty the projections and replay EVENTS into them.

The projections are a pure function of the stream, so replaying it from its first event
gives the same tables. The running service must be stopped first (or the command waits for
its projector to let go): both would otherwise write the same tables.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import nats
from nats.js.errors import NotFoundError

from libs.common.nats_access import connect_options
from libs.common.topology import Topology
from services.ledger.config import LedgerSettings
from services.ledger.handlers.projector import Projector
from services.ledger.store.database import engine_for, migrate

log = logging.getLogger(__name__)


class StreamMissingError(RuntimeError):
    """There is no EVENTS stream to rebuild from."""


@dataclass(frozen=True, slots=True)
class RebuildReport:
    last_seq: int
    seconds: float


async def rebuild(settings: LedgerSettings, *, lock_timeout_s: float = 0.0) -> RebuildReport:
    """Rebuild the projections of ``settings``' schema from the stream's first event."""
    started = time.perf_counter()
    await migrate(settings, always=True)
    # As the migration login: emptying the projections is the tables' owner's right, not
    # the runtime login's (whose writer role only changes rows).
    engine = engine_for(settings, url=settings.migration_url)
    nc = await nats.connect(
        settings.nats_url, **connect_options(settings, "ledger"), connect_timeout=5
    )
    try:
        js = nc.jetstream()
        topology = Topology.from_settings(settings)
        try:
            info = await js.stream_info(topology.events_stream)
        except NotFoundError as exc:
            raise StreamMissingError(f"no stream {topology.events_stream} on NATS") from exc
        target = info.state.last_seq
        projector = Projector(settings, engine, nc, topology)
        await projector.rebuild(target, lock_timeout_s=lock_timeout_s)
    finally:
        await nc.close()
        await engine.dispose()
    report = RebuildReport(last_seq=target, seconds=time.perf_counter() - started)
    log.info("ledger rebuilt", extra={"last_seq": report.last_seq, "seconds": report.seconds})
    return report

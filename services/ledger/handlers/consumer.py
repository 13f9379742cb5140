"""The ledger's durable pull consumer on EVENTS, positioned from the database.

Read through the one consumption layer's `libs.common.pull.Puller` (long-lived pull
requests); acknowledged a batch at a time (the consumer acks ``all``).

The projections record the last stream sequence they include, so that is where the consumer
starts whenever a projector takes the lead: the durable ``ledger`` consumer is re-created at
``last applied + 1``. Acks follow the commit and only tell the server we are done; the
database, not the ack floor, says what was applied. Re-creating the consumer also drops the
deliveries a dead projector left unacked, which JetStream would otherwise redeliver *after*
newer messages, breaking each tenant's order (positions depend on it).
"""

from __future__ import annotations

import contextlib
from dataclasses import replace

from nats.js import JetStreamContext, api
from nats.js.errors import NotFoundError

from libs.common.consumer import batch_consumer_config
from libs.common.topology import Topology
from services.ledger.config import CONSUMER, LedgerSettings


async def position(
    js: JetStreamContext, topology: Topology, settings: LedgerSettings, start_seq: int
) -> None:
    """(Re)create the ``ledger`` consumer so that it delivers from ``start_seq`` on."""
    stream = topology.events_stream
    with contextlib.suppress(NotFoundError):
        await js.delete_consumer(stream, CONSUMER)
    config = batch_consumer_config(
        CONSUMER,
        topology.events_filter,
        ack_wait_s=settings.ack_wait_s,
        max_ack_pending=settings.batch_size * 4,
    )
    if start_seq > 1:
        config = replace(
            config, deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start_seq
        )
    await js.add_consumer(stream, config)

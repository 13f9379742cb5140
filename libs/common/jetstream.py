"""Create or update the deployment's streams and KV buckets, idempotently.

Every service calls `ensure_topology(manage=False)` at start-up, so whichever starts first
creates a missing stream (NATS wiped) and the others find it; a changed setting (retention,
duplicate window) is applied with an update by the setup (`make run`, an operator as the NATS
``admin`` user: `python -m libs.common.jetstream`), which services may not do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys

import nats
from nats.js import JetStreamContext, api
from nats.js.errors import BadRequestError, BucketNotFoundError, NotFoundError
from nats.js.kv import KeyValue

from libs.common.config import ServiceSettings
from libs.common.nats_access import connect_options
from libs.common.topology import StreamSpec, Topology

log = logging.getLogger(__name__)

# JetStream's error code for "stream name already in use with a different configuration".
STREAM_NAME_IN_USE = 10058
KV_HISTORY = 5


def stream_config(spec: StreamSpec, replicas: int = 1) -> api.StreamConfig:
    """Return the JetStream configuration of a stream specification."""
    return api.StreamConfig(
        name=spec.name,
        description=spec.description,
        subjects=list(spec.subjects),
        retention=api.RetentionPolicy.LIMITS,
        storage=api.StorageType.FILE,
        discard=api.DiscardPolicy.OLD,
        max_age=spec.max_age_s,
        duplicate_window=spec.duplicate_window_s,
        num_replicas=replicas,
        allow_direct=True,
    )


async def ensure_stream(
    js: JetStreamContext, config: api.StreamConfig, *, manage: bool = True
) -> api.StreamInfo | None:
    """Create the stream, or update it in place when it exists with another configuration.

    A service (``manage=False``) may only create a missing stream: on NATS with permissions
    it may not change one (`libs.common.nats_access`), so a differing configuration is left
    for the ``admin`` user's setup and logged.
    """
    try:
        return await js.add_stream(config)
    except BadRequestError as exc:
        if exc.err_code != STREAM_NAME_IN_USE:
            raise
    if not manage:
        log.warning(
            "stream exists with another configuration; the topology setup updates it",
            extra={"stream": config.name},
        )
        return None
    log.info("updating stream configuration", extra={"stream": config.name})
    return await js.update_stream(config)


async def ensure_bucket(js: JetStreamContext, bucket: str, replicas: int = 1) -> KeyValue:
    """Create the KV bucket if it does not exist and return it."""
    try:
        return await js.key_value(bucket)
    except BucketNotFoundError:
        pass
    try:
        return await js.create_key_value(
            bucket=bucket,
            history=KV_HISTORY,
            replicas=replicas,
            storage=api.StorageType.FILE,
        )
    except BadRequestError as exc:  # another process created it between our two calls
        if exc.err_code != STREAM_NAME_IN_USE:
            raise
        return await js.key_value(bucket)


async def ensure_topology(js: JetStreamContext, topology: Topology, *, manage: bool = True) -> None:
    """Create or update (``manage``: the setup's, not a service's) every stream and KV bucket
    of ``topology``.
    """
    for spec in topology.streams():
        await ensure_stream(js, stream_config(spec, topology.replicas), manage=manage)
    for bucket in topology.buckets():
        await ensure_bucket(js, bucket, topology.replicas)


async def delete_topology(js: JetStreamContext, topology: Topology) -> None:
    """Delete every stream and bucket of ``topology`` (tests and `make clean-nats` only)."""
    for spec in topology.streams():
        with contextlib.suppress(NotFoundError):
            await js.delete_stream(spec.name)
    for bucket in topology.buckets():
        with contextlib.suppress(NotFoundError):
            await js.delete_key_value(bucket)


def consumer_config(
    durable: str,
    filter_subject: str,
    *,
    ack_wait_s: float = 30.0,
    max_deliver: int = 20,
    max_ack_pending: int = 1000,
) -> api.ConsumerConfig:
    """Return a durable, explicitly acked pull consumer of one subject filter.

    ``max_deliver`` bounds redeliveries; a handler that sees the last delivery moves the message
    to the dead-letter subject instead of failing it again.
    """
    return api.ConsumerConfig(
        durable_name=durable,
        filter_subject=filter_subject,
        deliver_policy=api.DeliverPolicy.ALL,
        ack_policy=api.AckPolicy.EXPLICIT,
        ack_wait=ack_wait_s,
        max_deliver=max_deliver,
        max_ack_pending=max_ack_pending,
        replay_policy=api.ReplayPolicy.INSTANT,
    )


async def _setup(namespace: str) -> None:
    settings = ServiceSettings(namespace=namespace)
    nc = await nats.connect(settings.nats_url, **connect_options(settings, "admin"))
    try:
        await ensure_topology(nc.jetstream(), Topology.from_settings(settings))
    finally:
        await nc.close()


if __name__ == "__main__":  # python -m libs.common.jetstream [namespace]: apply the topology
    asyncio.run(_setup(sys.argv[1] if len(sys.argv) > 1 else ServiceSettings().namespace))

"""Everything one router process runs, built without I/O and started in order.

The app's lifespan starts it; tests and the benchmark start several in one process (one per
replica index) without HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from nats.js import JetStreamContext
from opentelemetry.trace import TracerProvider
from redis.asyncio import Redis

from libs.common.auth import ApiKeyAuthenticator
from libs.common.broker import make_broker
from libs.common.consumer import ConsumerPolicy, ConsumerSpec, PartitionedConsumer
from libs.common.db import make_engine, migrate_at_start
from libs.common.ids import owned_partitions
from libs.common.jetstream import ensure_bucket, ensure_topology
from libs.common.kv_mirror import KVMirror
from libs.common.messages.types import utcnow
from libs.common.records import AccountRecord, ApiKeyRecord, TenantRecord
from libs.common.signing import CommandSigner, Issuer
from libs.common.topology import Topology
from services.router.announcer import KillSwitchAnnouncer
from services.router.config import SERVICE, RouterSettings
from services.router.handlers.intents import IntentHandler
from services.router.handlers.positions import DURABLES, PositionProjector
from services.router.publisher import Publisher
from services.router.store.accounts import AccountDirectory
from services.router.store.redis_state import RouterState
from services.router.store.settings import SettingsStore
from services.router.store.settings_cache import (
    SettingsCache,
    SettingsNotifier,
    decode_version,
)
from services.router.store.tables import MIGRATIONS

log = logging.getLogger(__name__)


@dataclass
class Mirrors:
    """In-memory copies of the KV buckets the router reads."""

    tenants: KVMirror[TenantRecord]
    api_keys: KVMirror[ApiKeyRecord]
    accounts: KVMirror[AccountRecord]
    versions: KVMirror[str]

    async def start(self) -> None:
        """Load every copy (each waits for its bucket's current values)."""
        await self.tenants.start()
        await self.api_keys.start()
        await self.accounts.start()
        await self.versions.start()

    async def stop(self) -> None:
        await self.tenants.stop()
        await self.api_keys.stop()
        await self.accounts.stop()
        await self.versions.stop()


class RouterRuntime:
    """Broker, database, Redis, KV mirrors, the INTENTS consumer, the position projector and
    the kill switch announcer."""

    def __init__(
        self,
        settings: RouterSettings,
        *,
        policy: ConsumerPolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        self.settings = settings
        self.topology = Topology.from_settings(settings)
        self.policy = policy or settings.policy()
        self.clock = clock
        self.broker = make_broker(settings, SERVICE, tracer_provider=tracer_provider)
        self.engine = make_engine(
            settings.database_url, settings.schema_name, pool_size=settings.database_pool_size
        )
        # Each handler holds one connection at a time; room for the projector and retries.
        self.redis: Redis = Redis.from_url(
            settings.redis_url, max_connections=2 * self.policy.max_concurrency + 16
        )
        self.store = SettingsStore(
            self.engine, reader_role=settings.reader_role, writer_role=settings.writer_role
        )
        self.state = RouterState(
            self.redis, settings.key_prefix, kept_ttl_s=settings.kept_decision_ttl_s
        )
        self.partitions = owned_partitions(
            settings.resolved_replica_index(), settings.replica_count, settings.partitions
        )
        self.mirrors: Mirrors | None = None
        self.cache: SettingsCache | None = None
        self.notifier: SettingsNotifier | None = None
        self.handler: IntentHandler | None = None
        self.announcer: KillSwitchAnnouncer | None = None
        self._announcing: asyncio.Task[None] | None = None
        self._consumer: PartitionedConsumer | None = None
        self._projectors: list[PositionProjector] = []

    async def start(self, *, migrate: bool = True) -> None:
        """Migrate, connect, load the KV copies, then start consuming (if configured)."""
        if migrate:
            s = self.settings
            roles = {"reader_role": s.reader_role, "writer_role": s.writer_role}
            await migrate_at_start(s, MIGRATIONS, s.schema_name, attributes=roles)
        await self.broker.connect()
        js: JetStreamContext = self.broker.config.connection_state.stream
        await ensure_topology(js, self.topology, manage=False)
        self.mirrors = await self._start_mirrors(js)
        self.cache = SettingsCache(
            self.store, self.mirrors.versions, ttl_s=self.settings.settings_cache_ttl_s
        )
        self.handler = IntentHandler(
            state=self.state,
            cache=self.cache,
            tenants=self.mirrors.tenants,
            accounts=AccountDirectory(self.mirrors.accounts),
            publisher=Publisher(
                self.broker,
                self.topology,
                CommandSigner(Issuer.ROUTER, self.settings.order_signing_key),
            ),
            clock=self.clock,
        )
        self.announcer = KillSwitchAnnouncer(self.broker, self.topology, self.store)
        self._announcing = asyncio.create_task(
            self.announcer.run_forever(self.settings.announce_interval_s)
        )
        if self.settings.consume:
            await self._start_consumers(js, self.handler)
        log.info("router started", extra={"partitions": list(self.partitions)})

    async def _start_mirrors(self, js: JetStreamContext) -> Mirrors:
        nc, topo, replicas = self.broker.connection, self.topology, self.topology.replicas
        versions = await ensure_bucket(js, topo.router_settings_bucket, replicas)
        mirror = functools.partial(KVMirror, nc, staleness_s=self.settings.kv_staleness_s)
        self.notifier = SettingsNotifier(versions)
        mirrors = Mirrors(
            mirror(await js.key_value(topo.tenants_bucket), TenantRecord.model_validate_json),
            mirror(await js.key_value(topo.api_keys_bucket), ApiKeyRecord.model_validate_json),
            mirror(await js.key_value(topo.accounts_bucket), AccountRecord.model_validate_json),
            mirror(versions, decode_version),
        )
        await mirrors.start()
        return mirrors

    async def _start_consumers(self, js: JetStreamContext, handler: IntentHandler) -> None:
        topo = self.topology
        spec = ConsumerSpec(
            service=SERVICE,
            stream=topo.intents_stream,
            filter_of=topo.intents_filter,
            partitions=self.partitions,
            handler=handler.handle,
            on_failure=handler.on_failure,
            deadletter_subject=topo.deadletter_subject("intents"),
            policy=self.policy,
        )
        self._consumer = PartitionedConsumer(js, spec)
        await self._consumer.start()
        for kind in DURABLES:
            projector = PositionProjector(js, topo, self.state, self.policy, kind)
            await projector.start()
            self._projectors.append(projector)

    def authenticator(self) -> ApiKeyAuthenticator:
        """Return the API-key check over the started copies of api-keys and tenants."""
        if self.mirrors is None:
            raise RuntimeError("start the runtime first")
        return ApiKeyAuthenticator(self.mirrors.api_keys, self.mirrors.tenants, clock=self.clock)

    async def stop(self) -> None:
        """Finish buffered intents (bounded), then close every connection."""
        if self._announcing is not None:
            self._announcing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._announcing
        if self._consumer is not None:
            await self._consumer.stop(timeout_s=self.policy.ack_wait_s / 2)
        for projector in self._projectors:
            await projector.stop()
        if self.mirrors is not None:
            await self.mirrors.stop()
        await self.redis.aclose()
        await self.engine.dispose()
        await self.broker.stop()
        log.info("router stopped")

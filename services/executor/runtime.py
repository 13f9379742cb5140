"""Everything an executor process runs, built from its settings, started and stopped in order.

Both roles share the accounts, the keys cache and the exchange clients; only the trading role
builds the order path (ORDERS consumer, tracker, marks), only the accounts role serves the API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from faststream.nats import NatsBroker
from nats.aio.client import Client
from nats.js import JetStreamContext
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.auth import ApiKeyAuthenticator
from libs.common.broker import make_broker
from libs.common.consumer import ConsumerPolicy, ConsumerSpec, PartitionedConsumer
from libs.common.db import connect_as, make_engine, migrate_at_start
from libs.common.ids import owned_partitions
from libs.common.jetstream import ensure_topology
from libs.common.kv_mirror import KVMirror
from libs.common.records import AccountRecord, ApiKeyRecord, TenantRecord
from libs.common.signing import CommandVerifier
from libs.common.topology import Topology
from services.executor.accounts.paper import PaperAccounts
from services.executor.accounts.purge import TenantPurger
from services.executor.accounts.service import AccountService
from services.executor.accounts.sessions import Sessions
from services.executor.accounts.store import AccountStore
from services.executor.accounts.validation import Validator
from services.executor.adapters.account_bucket import AccountBucket
from services.executor.adapters.budget import BudgetSettings
from services.executor.adapters.clients import ClientPool, ClientSettings
from services.executor.adapters.credentials import CredentialCache
from services.executor.adapters.paper_admin import PaperAdmin
from services.executor.adapters.vault import VaultKeys
from services.executor.adapters.vault_login import vault_clients
from services.executor.config import SERVICE, ExecutorSettings
from services.executor.handlers import OrderHandler
from services.executor.orders.cancels import Canceler
from services.executor.orders.events import Emitter
from services.executor.orders.failures import FailureReporter
from services.executor.orders.marks import Marks
from services.executor.orders.outcomes import Outcomes
from services.executor.orders.protector import Protector
from services.executor.orders.service import OrderService
from services.executor.orders.signatures import MAY_SIGN, CommandGate
from services.executor.orders.store import OrderStore
from services.executor.orders.submission import Submitter
from services.executor.orders.tracker import PollBackoff, Tracker

T = TypeVar("T")
MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """The executor's parts; `start` brings them up, `stop` takes them down."""

    settings: ExecutorSettings
    clock: Callable[[], datetime]
    tracer_provider: TracerProvider | None = None
    engine: AsyncEngine = field(init=False)
    broker: NatsBroker = field(init=False)
    topology: Topology = field(init=False)
    authenticator: ApiKeyAuthenticator = field(init=False)
    accounts: AccountService = field(init=False)
    paper_accounts: PaperAccounts = field(init=False)
    vault: VaultKeys = field(init=False)
    cache: CredentialCache = field(init=False)
    orders: OrderStore = field(init=False)
    pool: ClientPool = field(init=False)
    # The trading role's parts (None in the accounts role).
    handler: OrderHandler | None = None
    tracker: Tracker | None = None
    marks: Marks | None = None
    consumer: PartitionedConsumer | None = None
    purger: TenantPurger | None = None
    _mirrors: list[KVMirror[Any]] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        """Migrate, connect, build the parts, then (trading role) start consuming and tracking."""
        s = self.settings
        self.topology = Topology.from_settings(s)
        self.engine = make_engine(s.database_url, s.schema_name, pool_size=s.database_pool_size)
        roles = {"api_role": s.api_role, "writer_role": s.writer_role}
        await migrate_at_start(s, MIGRATIONS, s.schema_name, attributes=roles)
        connect_as(self.engine, s.writer_role)
        self.broker = make_broker(s, SERVICE, tracer_provider=self.tracer_provider)
        await self.broker.connect()
        state = self.broker.config.connection_state
        js, nc = state.stream, state.connection
        await ensure_topology(js, self.topology, manage=False)
        api_keys = await self._mirror(nc, js, self.topology.api_keys_bucket, _api_key)
        tenants = await self._mirror(nc, js, self.topology.tenants_bucket, _tenant)
        self.authenticator = ApiKeyAuthenticator(api_keys, tenants)
        bucket = AccountBucket(await js.key_value(self.topology.accounts_bucket))
        await self._resync(bucket)
        accounts = await self._mirror(nc, js, self.topology.accounts_bucket, _account)
        store = self._build(bucket)
        self._spawn(self._every(s.accounts_resync_s, lambda: self._resync(bucket)))
        self._spawn(self._every(s.credentials_ttl_s / 2, self._evict))
        if s.role.trades:
            handler, self.tracker, self.marks = self._build_trading(store, accounts)
            self.tracker.start()
            self.marks.start()
            if s.consumer_enabled:
                self.consumer = PartitionedConsumer(js, self._consumer_spec(handler))
                await self.consumer.start()
        if s.role.serves_accounts and s.consumer_enabled:
            # Purging destroys keys in Vault: the write identity's work, so the accounts role's.
            mirrors = (tenants, accounts)
            self.purger = TenantPurger(js, self.topology, self.accounts, mirrors, self.clock)
            await self.purger.start()

    async def _mirror(
        self, nc: Client, js: JetStreamContext, bucket: str, decode: Callable[[bytes], T]
    ) -> KVMirror[T]:
        kv = await js.key_value(bucket)
        mirror = KVMirror(nc, kv, decode, staleness_s=self.settings.kv_staleness_s)
        await mirror.start()
        self._mirrors.append(mirror)
        return mirror

    def _build(self, bucket: AccountBucket) -> AccountStore:
        """Build what both roles use: Vault, keys cache, exchange clients, the accounts."""
        s = self.settings
        self.vault, writer = vault_clients(s)
        self.cache = CredentialCache(self.vault.read, s.credentials_ttl_s)
        client_settings = ClientSettings(
            s.paper_exchange_url,
            s.exchange_timeout_ms,
            s.markets_ttl_s,
            s.price_ttl_s,
            s.submission_settle_s,
            BudgetSettings(s.weight_share, s.exchange_weight_margin, s.exchange_weight_max_wait_s),
            (s.paper_weight_limit, s.paper_weight_interval_s),
        )
        self.pool = ClientPool(client_settings, s.client_pool_size)
        store = AccountStore(self.engine, s.api_role)
        self.accounts = AccountService(
            store=store,
            vault=writer,
            bucket=bucket,
            cache=self.cache,
            pool=self.pool,
            validator=Validator(self.pool),
            clock=self.clock,
        )
        admin = None
        if s.role.serves_accounts and s.paper_admin_token is not None:
            token = s.paper_admin_token.get_secret_value()
            admin = PaperAdmin(s.paper_exchange_url, token, s.exchange_timeout_ms / 1000)
        self.paper_accounts = PaperAccounts(self.accounts, admin)
        self.orders = OrderStore(self.engine)
        return store

    def _build_trading(
        self, store: AccountStore, mirror: KVMirror[AccountRecord]
    ) -> tuple[OrderHandler, Tracker, Marks]:
        """Build the order path: handler of ORDERS, order tracker, futures marks."""
        s = self.settings
        outcomes = Outcomes(
            self.orders,
            Emitter(self.broker, self.topology),
            self.accounts,
            self.topology,
            self.clock,
        )
        sessions = Sessions(store, mirror, self.cache, self.pool)
        submitter = Submitter(outcomes)
        protector = Protector(outcomes, submitter, give_up_s=s.protection_give_up_s)
        outcomes.protector = protector
        orders = OrderService(sessions, outcomes, submitter, protector)
        self.handler = OrderHandler(
            CommandGate(CommandVerifier(s.order_keys), MAY_SIGN),
            orders,
            FailureReporter(orders, sessions, outcomes),
            Canceler(sessions, outcomes, protector),
        )
        marks = Marks(sessions, outcomes, self.partitions, interval_s=s.marks_interval_s)
        tracker = Tracker(
            sessions,
            outcomes,
            self.partitions,
            protector=protector,
            interval_s=s.tracker_interval_s,
            concurrency=s.tracker_concurrency,
            backoff=PollBackoff(
                s.tracker_young_s, s.tracker_age_fraction, s.tracker_max_interval_s
            ),
        )
        return self.handler, tracker, marks

    @property
    def partitions(self) -> tuple[int, ...]:
        s = self.settings
        return owned_partitions(s.effective_replica_index, s.replica_count, s.partitions)

    def _consumer_spec(self, handler: OrderHandler) -> ConsumerSpec:
        s = self.settings
        return ConsumerSpec(
            service=SERVICE,
            stream=self.topology.orders_stream,
            filter_of=self.topology.orders_filter,
            partitions=self.partitions,
            handler=handler.handle,
            on_failure=handler.on_failure,
            deadletter_subject=self.topology.deadletter_subject("orders"),
            policy=ConsumerPolicy(
                ack_wait_s=s.consumer_ack_wait_s,
                max_deliver=s.consumer_max_deliver,
                max_concurrency=s.consumer_concurrency,
                give_up_after_s=s.retry_give_up_s,
                retry_initial_s=s.retry_initial_s,
                retry_max_s=s.retry_max_s,
            ),
        )

    async def stop(self) -> None:
        """Stop consuming (letting handled orders finish), then close everything."""
        if self.consumer is not None:
            await self.consumer.stop()
        if self.purger is not None:
            await self.purger.stop()
        if self.tracker is not None:
            await self.tracker.stop()
        if self.marks is not None:
            await self.marks.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for mirror in self._mirrors:
            await mirror.stop()
        await self.cache.close()
        await self.pool.close()
        await self.broker.stop()
        await self.engine.dispose()

    async def _resync(self, bucket: AccountBucket) -> None:
        try:
            await bucket.resync(await AccountStore(self.engine, self.settings.api_role).all())
        except Exception:
            log.exception("could not re-sync the accounts bucket; retrying later")

    async def _evict(self) -> None:
        self.cache.evict_expired()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self._tasks.append(asyncio.create_task(coro))

    @staticmethod
    async def _every(interval_s: float, fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
        while True:
            await asyncio.sleep(interval_s)
            with contextlib.suppress(Exception):
                await fn()


def _api_key(data: bytes) -> ApiKeyRecord:
    return ApiKeyRecord.model_validate_json(data)


def _tenant(data: bytes) -> TenantRecord:
    return TenantRecord.model_validate_json(data)


def _account(data: bytes) -> AccountRecord:
    return AccountRecord.model_validate_json(data)

"""The long-lived object of an ingress process: what its lifespan starts and stops.

Start-up: connect to NATS, create or update the topology, load the ``webhook-tokens`` and
``tenants`` buckets into memory (answering 503 until they are loaded), connect Redis.
Shutdown (after uvicorn finished the requests in flight): stop the watches, close Redis,
drain NATS.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI
from faststream.nats import NatsBroker
from nats.aio.client import Client
from opentelemetry.trace import Tracer
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from libs.common.jetstream import ensure_topology
from libs.common.kv_mirror import KVMirror
from libs.common.publishing import JetStreamPublisher
from libs.common.records import TenantRecord, WebhookTokenRecord
from libs.common.topology import Topology
from services.ingress.adapters.publisher import IntentPublisher
from services.ingress.adapters.ratelimit import RateLimiter, RatePolicy
from services.ingress.adapters.refusals import RefusalReporter
from services.ingress.config import SERVICE, IngressSettings
from services.ingress.domain.webhook import WebhookGate
from services.ingress.handlers import WebhookHandler
from services.ingress.metrics import REFUSALS_DROPPED

log = logging.getLogger(__name__)


def _refusal_refused(label: str, reason: str) -> None:
    REFUSALS_DROPPED.inc()
    log.warning("AlertRefused not stored: %s", reason, extra={"tenant_id": label})


class IngressRuntime:
    """What one ingress process holds while it runs: NATS, the KV copies, Redis, the handler.

    Built without I/O; `lifespan` connects, and puts on the app's state what the route
    needs (``webhooks``: the `WebhookHandler`, ``refusals``: the `RefusalReporter`).
    """

    def __init__(
        self,
        settings: IngressSettings,
        broker: NatsBroker,
        clock: Callable[[], datetime],
        tracer: Tracer,
    ) -> None:
        self.settings = settings
        self.tracer = tracer
        self.broker = broker
        self.clock = clock
        self.topology = Topology.from_settings(settings)
        self.mirrors: tuple[KVMirror[WebhookTokenRecord], KVMirror[TenantRecord]] | None = None

    async def config_loaded(self) -> None:
        """Readiness: the webhook tokens and tenants are in memory."""
        if self.mirrors is None or not all(m.ready for m in self.mirrors):
            raise RuntimeError("webhook tokens and tenants not loaded yet")

    @asynccontextmanager
    async def lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        nc: Client = await self.broker.connect()
        redis = self._redis()
        try:
            tokens, tenants = await self._start_mirrors(nc)
            publisher = self._publisher(nc)
            await publisher.start()
            app.state.refusals = await self._refusals(nc)
            app.state.webhooks = self._handler(publisher, tokens, tenants, redis)
            yield
        finally:
            if getattr(app.state, "refusals", None) is not None:
                await app.state.refusals.stop()
            for mirror in self.mirrors or ():
                await mirror.stop()
            await redis.aclose()
            await self.broker.stop()

    async def _start_mirrors(
        self, nc: Client
    ) -> tuple[KVMirror[WebhookTokenRecord], KVMirror[TenantRecord]]:
        js = nc.jetstream()
        await ensure_topology(js, self.topology, manage=False)
        tokens_kv = await js.key_value(self.topology.webhook_tokens_bucket)
        tenants_kv = await js.key_value(self.topology.tenants_bucket)
        bound = self.settings.kv_staleness_s
        tokens = KVMirror(nc, tokens_kv, WebhookTokenRecord.model_validate_json, staleness_s=bound)
        tenants = KVMirror(nc, tenants_kv, TenantRecord.model_validate_json, staleness_s=bound)
        self.mirrors = (tokens, tenants)
        for mirror in self.mirrors:
            try:
                await mirror.start(self.settings.mirror_start_timeout_s)
            except TimeoutError:  # it keeps loading; webhooks get 503 until it is done
                log.warning("KV bucket still loading", extra={"bucket": mirror.bucket})
        return tokens, tenants

    def _redis(self) -> Redis:
        timeout = self.settings.redis_timeout_s
        # No socket_timeout: redis-py would wrap every read and write in a task of its own;
        # the rate limiter bounds each call with one asyncio.timeout instead. One connection
        # per alert admitted at once: the pool never runs out (a blocking pool, which waits
        # for a free connection, cost ~30 µs more per call in its lock and condition).
        pool = ConnectionPool.from_url(
            self.settings.redis_url,
            max_connections=self.settings.max_in_flight,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),  # a failure fails open at once; no retry storm
        )
        return Redis.from_pool(pool)  # closing the client closes the pool

    def _publisher(self, nc: Client) -> IntentPublisher:
        return IntentPublisher(
            nc,
            self.topology,
            clock=self.clock,
            timeout_s=self.settings.publish_timeout_s,
            tracer=self.tracer,
        )

    async def _refusals(self, nc: Client) -> RefusalReporter:
        publisher = JetStreamPublisher(nc, SERVICE, on_refused=_refusal_refused)
        await publisher.start()
        reporter = RefusalReporter(publisher, self.topology, clock=self.clock)
        await reporter.start()
        return reporter

    def _handler(
        self,
        publisher: IntentPublisher,
        tokens: KVMirror[WebhookTokenRecord],
        tenants: KVMirror[TenantRecord],
        redis: Redis,
    ) -> WebhookHandler:
        settings = self.settings
        limiter = RateLimiter(
            redis,
            prefix=settings.redis_key_prefix,
            clock=self.clock,
            policy=RatePolicy(settings.rate_limit_burst_fraction, settings.rate_limit_min_burst),
            timeout_s=settings.redis_timeout_s,
            retry_after_failure_s=settings.redis_retry_after_failure_s,
        )
        return WebhookHandler(WebhookGate(tokens, tenants), limiter, publisher, clock=self.clock)

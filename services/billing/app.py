"""Billing's wiring: Postgres, NATS (buckets, mirrors, the usage consumer), the HTTP API.

Start-up order: migrate the schema, connect to NATS and create the topology, re-sync the
buckets from Postgres (so a wiped NATS recovers before anyone reads), load the key mirrors
that authenticate tenants, then start the usage consumer and the background jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI
from faststream.nats import NatsBroker
from opentelemetry.sdk.trace import TracerProvider

from libs.common.auth import live_authenticator
from libs.common.broker import make_broker
from libs.common.db import connect_as, make_engine, migrate_at_start
from libs.common.errors import ConfigurationError
from libs.common.jetstream import ensure_topology
from libs.common.messages.types import utcnow
from libs.common.service import mount_ops, nats_check, postgres_check
from libs.common.telemetry import build_tracer_provider
from libs.common.topology import Topology
from services.billing.accounts import Accounts
from services.billing.adapters.events import EventPublisher
from services.billing.adapters.kv import KvStore
from services.billing.adapters.stripe_client import StripeGateway
from services.billing.api import operator, operators, signup, stripe_webhook, tenant
from services.billing.api.deps import Services, install_error_answers
from services.billing.api_keys import ApiKeys
from services.billing.config import BillingSettings
from services.billing.errors import InvalidRequestError
from services.billing.handlers import UsageConsumer
from services.billing.jobs import Maintenance
from services.billing.operators import AuditLog, Operators
from services.billing.payments import Payments
from services.billing.runtime import Runtime
from services.billing.signups import Signups
from services.billing.sync import reconcile
from services.billing.usage import Usage
from services.billing.webhooks import Webhooks

log = logging.getLogger(__name__)

SERVICE = "billing"
MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(
    settings: BillingSettings,
    *,
    clock: Callable[[], datetime] = utcnow,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """Build the billing app; nothing connects until its lifespan starts."""
    provider = tracer_provider or build_tracer_provider(SERVICE)
    topology = Topology.from_settings(settings)
    engine = make_engine(
        settings.database_url, settings.database_schema, pool_size=settings.database_pool_size
    )
    connect_as(engine, settings.writer_role)
    broker = make_broker(settings, SERVICE, tracer_provider=provider)
    rt = Runtime(
        settings,
        engine,
        KvStore(topology, timeout_s=settings.kv_timeout_s),
        EventPublisher(broker, topology, timeout_s=settings.kv_timeout_s),
        clock,
    )
    gateway = _gateway(settings)
    usage = Usage(rt)
    consumer = UsageConsumer(usage, topology)
    app = FastAPI(
        title="Sparky billing",
        lifespan=_lifespan(rt, topology, broker, gateway, consumer),
    )
    webhooks, api_keys = Webhooks(rt), ApiKeys(rt)
    app.state.services = Services(
        accounts=Accounts(rt),
        webhooks=webhooks,
        api_keys=api_keys,
        payments=Payments(rt, gateway),
        usage=usage,
        operators=Operators(rt, settings.operator_token),
        audit=AuditLog(rt),
        signups=Signups(rt, api_keys, webhooks),
    )
    app.state.maintenance = Maintenance(rt)
    for router in (
        operator.router,
        operators.router,
        tenant.router,
        signup.router,
        stripe_webhook.router,
    ):
        app.include_router(router)
    install_error_answers(app)
    mount_ops(app, {"nats": nats_check(broker), "postgres": postgres_check(engine)}, provider)
    return app


def _gateway(settings: BillingSettings) -> StripeGateway | None:
    if settings.stripe_api_key is None:
        return None
    return StripeGateway(
        settings.stripe_api_key.get_secret_value(), api_base=settings.stripe_api_base
    )


def _lifespan(
    rt: Runtime,
    topology: Topology,
    broker: NatsBroker,
    gateway: StripeGateway | None,
    consumer: UsageConsumer,
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings = rt.settings
        async with contextlib.AsyncExitStack() as stack:
            stack.push_async_callback(rt.engine.dispose)
            if gateway is not None:
                stack.push_async_callback(gateway.close)
            roles = {"writer_role": settings.writer_role}
            await migrate_at_start(settings, MIGRATIONS, settings.database_schema, roles)
            await _check_plans(rt)
            stack.push_async_callback(broker.stop)
            nc = await broker.connect()
            await ensure_topology(nc.jetstream(), topology, manage=False)
            await rt.kv.open(nc)
            await reconcile(rt)  # a wiped or stale NATS is repaired before anyone reads
            app.state.authenticator = await stack.enter_async_context(
                live_authenticator(
                    nc,
                    nc.jetstream(),
                    topology,
                    staleness_s=settings.kv_staleness_s,
                    clock=rt.clock,
                )
            )
            await broker.start()
            await consumer.start(
                nc.jetstream(), settings.usage_batch_size, settings.usage_batch_wait_s
            )
            stack.push_async_callback(consumer.stop)
            jobs = asyncio.create_task(app.state.maintenance.run_forever(), name="billing-jobs")
            stack.push_async_callback(_cancel, jobs)
            yield

    return lifespan


async def _check_plans(rt: Runtime) -> None:
    """Refuse to start when the configured default or fallback plan does not exist."""
    settings = rt.settings
    try:
        async with rt.engine.connect() as conn:
            plans = await rt.plans(conn, settings.default_plan, settings.fallback_plan)
    except InvalidRequestError as exc:
        raise ConfigurationError(f"default_plan or fallback_plan: {exc.message}") from exc
    for price, plan in settings.stripe_prices.items():
        if plan not in plans:
            log.warning("a Stripe price maps to no plan", extra={"price": price, "plan": plan})


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task

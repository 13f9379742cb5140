"""Test helpers for billing: a movable clock, an app served on a real port, a fake Stripe,
events signed the way Stripe signs them, the running app as its tests drive it, and the
in-memory copies of the KV buckets.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import parse_qs

import httpx
import stripe
import uvicorn
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from libs.common.config import load_settings
from libs.common.ids import new_id
from libs.common.kv_mirror import KVMirror
from libs.common.records import ApiKeyRecord, TenantRecord, WebhookTokenRecord
from services.billing.app import create_app
from services.billing.config import BillingSettings
from services.billing.jobs import Maintenance
from tests.helpers.polling import eventually

OPERATOR_TOKEN = "sop_test-operator-token-0123456789"
STRIPE_SECRET = "whsec_test_secret_0123456789"
STRIPE_PRICES = {"price_basic_m": "basic", "price_pro_m": "pro"}
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


class Clock:
    """A clock the test moves; starts at the real time so Stripe's tolerance check agrees."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


def free_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def served(
    app: Starlette,
    startup_timeout_s: float = 30.0,
    *,
    http: type[asyncio.Protocol] | Literal["auto"] = "auto",
) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on a free port of this event loop; yield its base URL.

    The app's lifespan is not run: start it beforehand if it has one (LifespanManager).
    ``http`` is uvicorn's protocol (the services' own: `libs.common.http_limits`).
    """
    sock = free_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, http=http, log_config=None, access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await eventually(
            lambda: server.started or task.done(),
            what="the app serving",
            timeout_s=startup_timeout_s,
            interval_s=0.02,
        )
    finally:
        if not server.started:
            server.should_exit = True
            await task  # its own error, if it ended with one, says more than ours
    if not server.started:
        raise RuntimeError("the app did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 20)
        sock.close()


def billing_settings_for(
    nats_url: str,
    namespace: str,
    database_url: str,
    schema: str,
    **overrides: Any,
) -> BillingSettings:
    """Return billing's settings in a test: its namespace and schema, the operator token, and
    the periodic jobs left to the test (hourly), with ``overrides`` by field name."""
    fields: dict[str, Any] = {
        "environment": "test",
        "nats_url": nats_url,
        "namespace": namespace,
        "database_url": database_url,
        "database_schema": schema,
        "database_pool_size": 4,
        "operator_token": OPERATOR_TOKEN,
        "public_base_url": "https://hooks.sparky.test",
        "maintenance_interval_s": 3600,
        "reconcile_interval_s": 3600,
    }
    return load_settings(BillingSettings, **(fields | overrides))


@asynccontextmanager
async def billing_served(settings: BillingSettings) -> AsyncIterator[tuple[FastAPI, str]]:
    """Run billing with ``settings`` (its lifespan too) on a free port; yield the app and its
    base URL."""
    app = create_app(settings, tracer_provider=TracerProvider())
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30), served(app) as url:
        yield app, url


@dataclass(frozen=True)
class StripeCall:
    method: str
    path: str
    form: dict[str, list[str]]
    authorization: str


@dataclass
class FakeStripe:
    """Answers Checkout and portal session creation with minimal JSON; records every call."""

    calls: list[StripeCall] = field(default_factory=list)

    def app(self) -> Starlette:
        async def record(request: Request, answer: dict[str, str]) -> JSONResponse:
            body = (await request.body()).decode()
            auth = request.headers.get("authorization", "")
            self.calls.append(StripeCall(request.method, request.url.path, parse_qs(body), auth))
            return JSONResponse(answer)

        async def checkout(request: Request) -> JSONResponse:
            url = "https://checkout.stripe.test/c/cs_test_1"
            return await record(
                request, {"id": "cs_test_1", "object": "checkout.session", "url": url}
            )

        async def portal(request: Request) -> JSONResponse:
            url = "https://billing.stripe.test/p/bps_1"
            answer = {"id": "bps_1", "object": "billing_portal.session", "url": url}
            return await record(request, answer)

        return Starlette(
            routes=[
                Route("/v1/checkout/sessions", checkout, methods=["POST"]),
                Route("/v1/billing_portal/sessions", portal, methods=["POST"]),
            ]
        )


def stripe_event(
    event_type: str, obj: dict[str, object], *, created: datetime | None = None
) -> bytes:
    """Return the JSON body of a Stripe event (ids and times as Stripe writes them)."""
    when = created or datetime.now(UTC)
    event = {
        "id": f"evt_{new_id()}",
        "object": "event",
        "api_version": "2025-01-27.acacia",
        "type": event_type,
        "created": int(when.timestamp()),
        "livemode": False,
        "data": {"object": obj},
    }
    return json.dumps(event).encode()


def signature(payload: bytes, secret: str = STRIPE_SECRET, *, age_s: int = 0) -> str:
    """Sign ``payload`` with the stripe library's own helper, ``age_s`` seconds ago."""
    timestamp = int(time.time()) - age_s
    header: str = stripe.WebhookSignature.generate_signature_header(
        payload.decode(), secret, timestamp=timestamp
    )
    return header


@dataclass
class Billing:
    """A running billing app and an HTTP client to it."""

    app: FastAPI
    http: httpx.AsyncClient

    @property
    def jobs(self) -> Maintenance:
        jobs: Maintenance = self.app.state.maintenance
        return jobs

    async def create_tenant(self, **spec: Any) -> dict[str, Any]:
        """Create a tenant as the operator; return the answer (with its secrets)."""
        response = await self.http.post(
            "/api/v1/tenants", json={"name": "Ada", **spec}, headers=OPERATOR
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        await self.wait_until_key_works(created["api_key"]["key"])
        return created

    async def wait_until_key_works(self, key: str) -> None:
        """Wait for billing's own copy of the api-keys bucket to know ``key``."""
        authenticator = self.app.state.authenticator
        await eventually(lambda: _works(authenticator, key), what="billing's copy of the api key")


def _works(authenticator: Any, key: str) -> bool:
    try:
        authenticator.authenticate(key)
    except Exception:  # noqa: BLE001 - not yet
        return False
    return True


@dataclass
class Buckets:
    """In-memory copies of the three buckets, as ingress and the router keep them."""

    tenants: KVMirror[TenantRecord]
    tokens: KVMirror[WebhookTokenRecord]
    api_keys: KVMirror[ApiKeyRecord]

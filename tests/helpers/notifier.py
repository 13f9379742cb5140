"""Local servers that speak the notifier's channels' APIs on loopback, and the real billing
and ledger the notifier calls, in-process on ports of their own.

- `DiscordStandIn`: Discord's incoming webhooks (``POST /api/webhooks/<id>/<token>``), with
  Discord's own rate limit (5 posts per 2 s per webhook, then 429 with a JSON ``retry_after``)
  and per-webhook faults (403, 404, 500, a 429 first);
- `WebhookReceiver`: a trader's server that verifies ``Sparky-Signature`` as docs/notifier.md
  tells them to, and refuses what does not verify;
- `billing_service`, `ledger_service`: the real billing and ledger apps (lifespan and all) on
  the test's namespace, each in a schema of its own, served on a free port.

Email goes to `scripts.mailbox.Mailbox` (its ``refuse`` answers 550 at RCPT).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from libs.common.config import Environment
from libs.common.topology import Topology
from scripts.mailbox import Mailbox
from services.ledger.app import create_app as create_ledger
from services.ledger.config import LedgerSettings
from services.notifier.runtime import Runtime
from tests.helpers.billing import OPERATOR_TOKEN, billing_served, billing_settings_for, served
from tests.helpers.namespaces import drop_schema
from tests.helpers.polling import eventually
from tests.helpers.servers import ServerUrls
from tests.helpers.signing import LEDGER_KEY

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}

DISCORD_BURST = 5
DISCORD_WINDOW_S = 2.0


@dataclass
class DiscordPost:
    webhook: str
    content: str
    at: float


@dataclass
class DiscordStandIn:
    """Discord's webhook endpoint; ``faults[webhook_id]`` is a list of statuses answered
    first (one per post), then it behaves."""

    posts: list[DiscordPost] = field(default_factory=list)
    refused: list[tuple[str, int]] = field(default_factory=list)
    faults: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    _recent: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def app(self) -> Starlette:
        async def post(request: Request) -> Response:
            hook = request.path_params["hook"]
            body = json.loads(await request.body())
            now = time.monotonic()
            if self.faults[hook]:
                status = self.faults[hook].pop(0)
                self.refused.append((hook, status))
                if status == 429:
                    return JSONResponse({"retry_after": 0.3, "global": False}, status_code=429)
                return JSONResponse(
                    {"message": "Unknown Webhook", "code": 10015}, status_code=status
                )
            recent = [t for t in self._recent[hook] if now - t < DISCORD_WINDOW_S]
            if len(recent) >= DISCORD_BURST:
                self.refused.append((hook, 429))
                wait = DISCORD_WINDOW_S - (now - recent[0])
                return JSONResponse(
                    {"retry_after": round(wait, 3), "global": False}, status_code=429
                )
            self._recent[hook] = [*recent, now]
            if body.get("allowed_mentions") != {"parse": []}:
                return JSONResponse(
                    {"message": "mentions must be off in this test"}, status_code=400
                )
            self.posts.append(DiscordPost(hook, body["content"], now))
            return JSONResponse({"id": secrets.token_hex(8), "content": body["content"]})

        return Starlette(routes=[Route("/api/webhooks/{hook}/{token}", post, methods=["POST"])])

    def to(self, hook: str) -> list[DiscordPost]:
        return [p for p in self.posts if p.webhook == hook]


@dataclass
class Received:
    delivery_id: str
    body: dict[str, Any]


@dataclass
class WebhookReceiver:
    """A trader's server: verifies each POST with the secret of its path's hook."""

    secrets: dict[str, str] = field(default_factory=dict)
    received: dict[str, list[Received]] = field(default_factory=lambda: defaultdict(list))
    bad_signatures: int = 0
    answer: dict[str, int] = field(default_factory=dict)  # hook -> status to answer
    delay_s: float = 0.0  # a slow receiver: a send is in flight for this long

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            name = request.path_params["name"]
            body = await request.body()
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            if name in self.answer:
                return Response(status_code=self.answer[name])
            secret = self.secrets.get(name)
            if secret is not None and not verify(secret, request.headers, body):
                self.bad_signatures += 1
                return Response(status_code=400)
            self.received[name].append(
                Received(request.headers["Sparky-Delivery"], json.loads(body))
            )
            return Response(status_code=204)

        return Starlette(routes=[Route("/hooks/{name}", hook, methods=["POST"])])


def verify(secret: str, headers: Any, body: bytes, tolerance_s: int = 300) -> bool:
    """The receiver's check, as docs/notifier.md shows it."""
    timestamp = headers.get("Sparky-Timestamp", "")
    signature = headers.get("Sparky-Signature", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance_s:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(signature, "v1=" + expected.hexdigest())


@asynccontextmanager
async def own_schema(server_urls: ServerUrls, name: str) -> AsyncIterator[str]:
    """A schema ``name`` (the service makes it as it migrates), dropped afterwards."""
    try:
        yield name
    finally:
        conn = await asyncpg.connect(server_urls.postgres)
        try:
            await drop_schema(conn, name)
        finally:
            await conn.close()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@dataclass
class BillingService:
    """The real billing, served at ``url``; ``http`` is a client of it."""

    app: FastAPI
    url: str
    http: httpx.AsyncClient

    async def new_tenant(self, name: str = "Ada") -> tuple[str, str]:
        """Create a tenant as the operator; return its id and its API key, once billing's
        own copy of the api-keys bucket knows the key."""
        response = await self.http.post("/api/v1/tenants", json={"name": name}, headers=OPERATOR)
        assert response.status_code == 201, response.text
        created = response.json()
        key = str(created["api_key"]["key"])
        await eventually(lambda: self._knows(key), what="billing knowing the new key", timeout_s=10)
        return str(created["tenant"]["tenant_id"]), key

    def _knows(self, key: str) -> bool:
        try:
            self.app.state.authenticator.authenticate(key)
        except Exception:  # noqa: BLE001 - not yet
            return False
        return True

    async def keys(self, key: str) -> list[dict[str, Any]]:
        """The API keys of ``key``'s tenant, as billing lists them to that tenant."""
        response = await self.http.get("/api/v1/api-keys", headers=bearer(key))
        assert response.status_code == 200, response.text
        listed: list[dict[str, Any]] = response.json()
        return listed

    async def tenant_of(self, key: str) -> str | None:
        """The tenant ``key`` authenticates as at billing, or None when billing refuses it."""
        response = await self.http.get("/api/v1/account", headers=bearer(key))
        if response.status_code == 401:
            return None
        assert response.status_code == 200, response.text
        return str(response.json()["tenant_id"])


@asynccontextmanager
async def billing_service(
    server_urls: ServerUrls, topology: Topology, schema: str
) -> AsyncIterator[BillingService]:
    """Billing on the test's namespace and NATS, in ``schema``, served on a free port."""
    settings = billing_settings_for(
        server_urls.nats, topology.namespace, server_urls.postgres, schema
    )
    async with billing_served(settings) as (app, url), httpx.AsyncClient(base_url=url) as http:
        yield BillingService(app, url, http)


@asynccontextmanager
async def ledger_service(
    server_urls: ServerUrls, topology: Topology, schema: str
) -> AsyncIterator[str]:
    """The ledger (projector and read API) on the test's namespace, in ``schema``; yield its
    URL."""
    settings = LedgerSettings(
        environment=Environment.TEST,
        namespace=topology.namespace,
        nats_url=server_urls.nats,
        database_url=server_urls.postgres,
        database_schema=schema,
        database_pool_size=4,
        batch_wait_s=0.01,
        idle_poll_s=0.2,
        lock_poll_s=0.1,
        retry_backoff_s=0.2,
        log_json=False,
        order_signing_key=SecretStr(LEDGER_KEY),
    )
    app = create_ledger(settings)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30), served(app) as url:
        yield url


@dataclass
class StandIns:
    """What the notifier talks to: Discord's and a trader's servers on loopback, the real
    billing, the mailbox."""

    discord: DiscordStandIn
    discord_url: str
    receiver: WebhookReceiver
    receiver_url: str
    billing: BillingService
    mailbox: Mailbox


@dataclass
class Running:
    """A notifier running in this process, and a client of its API as one tenant."""

    runtime: Runtime
    api: httpx.AsyncClient
    tenant_id: str
    api_key: str
    stand_ins: StandIns

"""Local servers that speak the notifier's channels' APIs on loopback, and a billing stand-in.

- `DiscordStandIn`: Discord's incoming webhooks (``POST /api/webhooks/<id>/<token>``), with
  Discord's own rate limit (5 posts per 2 s per webhook, then 429 with a JSON ``retry_after``)
  and per-webhook faults (403, 404, 500, a 429 first);
- `WebhookReceiver`: a trader's server that verifies ``Sparky-Signature`` as docs/notifier.md
  tells them to, and refuses what does not verify;
- `BillingKeys`: billing's ``POST/DELETE /api/v1/api-keys`` as the notifier calls them;
- `RefusingSmtp`: aiosmtpd that refuses some recipients with 550.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.helpers.ports import free_port
from tests.helpers.web import Inbox

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


@dataclass
class BillingKeys:
    """Billing's tenant key routes: records what the notifier asked for."""

    made: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    callers: list[str] = field(default_factory=list)

    def app(self) -> Starlette:
        async def create(request: Request) -> Response:
            self.callers.append(request.headers.get("authorization", ""))
            key_id = f"key{len(self.made)}"
            self.made.append(key_id)
            body = {
                "api_key": {"key_id": key_id, "label": "notifier"},
                "key": f"spk_{secrets.token_urlsafe(16)}",
            }
            return JSONResponse(body, status_code=201)

        async def revoke(request: Request) -> Response:
            self.revoked.append(request.path_params["key_id"])
            return Response(status_code=204)

        return Starlette(
            routes=[
                Route("/api/v1/api-keys", create, methods=["POST"]),
                Route("/api/v1/api-keys/{key_id}", revoke, methods=["DELETE"]),
            ]
        )


class _Refusing(Inbox):
    refuse: set[str]

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self,
        _server: SMTP,
        _session: Session,
        envelope: Envelope,
        address: str,
        _options: list[str],
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


class RefusingSmtp:
    """aiosmtpd on a free loopback port, in its own thread; refuses ``refuse`` with 550."""

    def __init__(self, refuse: set[str] | None = None) -> None:
        self.inbox = _Refusing()
        self.inbox.refuse = refuse or set()
        self.port = free_port()
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


@dataclass
class LedgerStandIn:
    """The ledger's ``/api/v1/pnl/daily`` and ``/api/v1/alerts`` for one day's figures;
    records the keys and queries it was called with."""

    calls: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def app(self) -> Starlette:
        async def daily(request: Request) -> Response:
            self.calls.append(("pnl", request.headers["authorization"], dict(request.query_params)))
            day = request.query_params["since"]
            days = [
                {
                    "day": day,
                    "currency": "USDT",
                    "realized_pnl": "12.5",
                    "cumulative_pnl": "40",
                    "trades": 7,
                },
                {
                    "day": day,
                    "currency": "BTC",
                    "realized_pnl": "-0.001",
                    "cumulative_pnl": "0",
                    "trades": 2,
                },
            ]
            return JSONResponse({"days": days})

        async def alerts(request: Request) -> Response:
            self.calls.append(
                ("alerts", request.headers["authorization"], dict(request.query_params))
            )
            alert = {"intent_id": "x", "status": "rejected"}
            return JSONResponse({"alerts": [alert, alert, alert], "next_cursor": None})

        return Starlette(
            routes=[
                Route("/api/v1/pnl/daily", daily, methods=["GET"]),
                Route("/api/v1/alerts", alerts, methods=["GET"]),
            ]
        )

"""``POST /webhooks/tv/{token}``: TradingView's alerts come in here.

Answers: 202 ``{"intent_id"}`` once stored, 200 ``{"duplicate": true}``, or an error status
with ``{"error": "<what a trader should know>", "errors": [...]}`` (a problem per field on a
400). The documented contract is `services.ingress.api.openapi`.

A request holds one of its webhook's slots (`WebhookSlots`) from the moment its token is known
until it is answered, body still arriving included; it counts against the shared limit
(`Admission`) only once its body has arrived. So a tenant whose requests stall holds at most its
own slots, never the capacity every tenant shares; the server cuts a stalled body off after a
few seconds (`libs.common.http_limits`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry import trace
from starlette.requests import ClientDisconnect

from services.ingress.adapters.refusals import RefusalReporter
from services.ingress.domain.network import client_address
from services.ingress.errors import (
    TooLargeError,
    UnavailableError,
    WebhookBusyError,
    WebhookError,
    invalid,
)
from services.ingress.handlers import WebhookHandler
from services.ingress.metrics import IN_FLIGHT, count_answer

WEBHOOK_PATH = "/webhooks/tv/{token}"
_OVERLOADED = "Sparky is overloaded and did not store this alert; TradingView will resend it."
_BUSY = (
    "Too many requests to this webhook URL are open at once; this alert was not stored and "
    "TradingView will resend it."
)


@dataclass
class Admission:
    """Count the alerts being handled; refuse more than ``limit`` at once (load shedding)."""

    limit: int
    count: int = 0

    @contextmanager
    def admit(self) -> Iterator[bool]:
        """Yield whether this alert may be handled now."""
        if self.count >= self.limit:
            yield False
            return
        self.count += 1
        IN_FLIGHT.inc()
        try:
            yield True
        finally:
            self.count -= 1
            IN_FLIGHT.dec()


@dataclass
class WebhookSlots:
    """Count each webhook's open requests; refuse more than ``limit`` at once per webhook."""

    limit: int
    open: dict[str, int] = field(default_factory=dict)

    @contextmanager
    def hold(self, webhook_id: str) -> Iterator[bool]:
        """Yield whether one more request of ``webhook_id`` may be read now."""
        count = self.open.get(webhook_id, 0)
        if count >= self.limit:
            yield False
            return
        self.open[webhook_id] = count + 1
        try:
            yield True
        finally:
            left = self.open[webhook_id] - 1
            if left:
                self.open[webhook_id] = left
            else:
                del self.open[webhook_id]


async def receive_alert(request: Request) -> Response:
    """Authenticate, validate and store one alert; answer once it is stored or refused."""
    started = time.perf_counter()
    try:
        response, outcome = await _answer(request.path_params["token"], request)
    except WebhookError as refused:
        response, outcome = _refusal(refused)
        _report(request, refused)
    count_answer(outcome, time.perf_counter() - started)
    trace.get_current_span().set_attribute("sparky.outcome", outcome)
    return response


async def _answer(token: str, request: Request) -> tuple[Response, str]:
    """The steps: token → the webhook's slot → body → the shared admission → store."""
    state = request.app.state
    handler: WebhookHandler = state.webhooks
    settings = state.settings
    peer = request.client.host if request.client else None
    forwarded = request.headers.getlist("x-forwarded-for")
    address = client_address(peer, forwarded, settings.trusted_proxy_hops)
    webhook = handler.authenticate(token, address)
    slots: WebhookSlots = state.webhook_slots
    try:
        with slots.hold(webhook.record.webhook_id) as held:
            if not held:
                raise WebhookBusyError(_BUSY)
            body = await read_body(request, settings.body_limit_bytes)
            admission: Admission = state.admission
            with admission.admit() as admitted:
                if not admitted:
                    raise UnavailableError(_OVERLOADED)
                stored = await handler.accept(webhook, body, address)
    except WebhookError as refused:
        raise refused.of(webhook.record) from None
    if stored.duplicate:
        return JSONResponse({"duplicate": True}, 200), "duplicate"
    return JSONResponse({"intent_id": stored.intent_id}, 202), "accepted"


# A plain Starlette route: the endpoint reads the request itself, so FastAPI's dependency
# resolution and validation (about 25 µs a request) would buy nothing.
router = APIRouter()
router.add_route(WEBHOOK_PATH, receive_alert, methods=["POST"], include_in_schema=False)


def _report(request: Request, refused: WebhookError) -> None:
    """Tell the tenant's feed of a refusal of one of its webhooks (never of an unknown URL,
    nor an outage: those say nothing about the trader's alerts)."""
    reporter: RefusalReporter | None = getattr(request.app.state, "refusals", None)
    if reporter is None or refused.webhook is None or refused.refusal is None:
        return
    reporter.report(refused.webhook, refused.refusal, refused.status, refused.message)


def _refusal(refused: WebhookError) -> tuple[Response, str]:
    return JSONResponse(refused.body(), refused.status, dict(refused.headers)), refused.outcome


async def read_body(request: Request, limit: int) -> bytes:
    """Return the body, refusing (413) as soon as it exceeds ``limit`` bytes."""
    too_large = TooLargeError(f"The alert message is larger than {limit} bytes.")
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and (len(declared) > 9 or int(declared) > limit):
        raise too_large
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise too_large
    except ClientDisconnect:
        raise invalid("body", "The message was cut off before its end.") from None
    return bytes(body)

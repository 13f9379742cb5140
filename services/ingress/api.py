"""``POST /webhooks/tv/{token}``: TradingView's alerts come in here.

Answers: 202 ``{"intent_id"}`` once stored, 200 ``{"duplicate": true}``, or an error status
with ``{"error": "<what a trader should know>"}`` (plus ``errors`` per field on a 400).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry import trace
from starlette.requests import ClientDisconnect

from services.ingress.errors import TooLargeError, UnavailableError, WebhookError, invalid
from services.ingress.handlers import WebhookHandler
from services.ingress.metrics import IN_FLIGHT, count_answer
from services.ingress.network import client_address

WEBHOOK_PATH = "/webhooks/tv/{token}"
_OVERLOADED = "Sparky is overloaded and did not store this alert; TradingView will resend it."


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


async def receive_alert(request: Request) -> Response:
    """Authenticate, validate and store one alert; answer once it is stored or refused."""
    started = time.perf_counter()
    token: str = request.path_params["token"]
    admission: Admission = request.app.state.admission
    with admission.admit() as admitted:
        if admitted:
            response, outcome = await _answer(token, request)
        else:
            response, outcome = _refusal(UnavailableError(_OVERLOADED))
    count_answer(outcome, time.perf_counter() - started)
    trace.get_current_span().set_attribute("sparky.outcome", outcome)
    return response


async def _answer(token: str, request: Request) -> tuple[Response, str]:
    handler: WebhookHandler = request.app.state.webhooks
    settings = request.app.state.settings
    peer = request.client.host if request.client else None
    forwarded = request.headers.getlist("x-forwarded-for")
    address = client_address(peer, forwarded, settings.trusted_proxy_hops)
    try:
        webhook = handler.authenticate(token, address)
        body = await read_body(request, settings.body_limit_bytes)
        stored = await handler.accept(webhook, body, address)
    except WebhookError as refused:
        return _refusal(refused)
    if stored.duplicate:
        return JSONResponse({"duplicate": True}, 200), "duplicate"
    return JSONResponse({"intent_id": stored.intent_id}, 202), "accepted"


# A plain Starlette route: the endpoint reads the request itself, so FastAPI's dependency
# resolution and validation (about 25 µs a request) would buy nothing.
router = APIRouter()
router.add_route(WEBHOOK_PATH, receive_alert, methods=["POST"], include_in_schema=False)


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

"""The web app's Prometheus metrics (the chart's "Sparky / Web app" dashboard and alerts).

`RequestMetrics` counts and times every answer by method, route template (never the raw path:
it holds intent ids and tokens) and status; the auth pages count sign-ups, sign-ins and mail.
Names and labels are agreed with the chart: /work/notes/ops-metrics.md, docs/web.md.
"""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter("sparky_web_requests", "Answers of the web app", ["method", "route", "status"])
REQUEST_SECONDS = Histogram(
    "sparky_web_request_seconds",
    "Time to answer, by route",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SIGNUPS = Counter("sparky_web_signups", "Sign-up forms handled", ["outcome"])
"""outcome: created (billing made the tenant) | refused (the form was refused, or the address
has an account) | failed (billing could not make the tenant; sign-in retries)"""
LOGINS = Counter("sparky_web_logins", "Sign-in attempts", ["outcome"])
"""outcome: success | failure (wrong password or code, or the account could not be finished) |
throttled | totp_required (the password was right, the code is asked for)"""
EMAILS = Counter("sparky_web_emails", "Mail handed to the SMTP server", ["kind", "outcome"])
"""kind: verify | reset | notice (an address that has an account was signed up with again);
outcome: sent | failed"""


def route_of(scope: Scope) -> str:
    """The template of the route that served ``scope`` (``/alerts/{intent_id}``), else
    ``other`` (a 404 must not make a label per guessed URL)."""
    app = scope.get("app")
    router = getattr(app, "router", None)
    for route in getattr(router, "routes", []):
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return str(getattr(route, "path", "other")) or "other"
    return "other"


class RequestMetrics:
    """Pure ASGI middleware: one count and one timing per HTTP answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status, streamed = 500, False

        async def counting_send(message: Message) -> None:
            nonlocal status, streamed
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = dict(message.get("headers", []))
                streamed = headers.get(b"content-type", b"").startswith(b"text/event-stream")
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            method, route = scope["method"], route_of(scope)
            REQUESTS.labels(method, route, str(status)).inc()
            if not streamed:  # a live feed stays open for minutes: not an answer time
                REQUEST_SECONDS.labels(method, route).observe(time.perf_counter() - started)

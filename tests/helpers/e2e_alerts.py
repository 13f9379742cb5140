"""What the end-to-end tests send: TradingView's alerts as traders write them, and waits.

The templates are read from docs/alerts.md, the page traders copy them from, and rendered the
way TradingView renders an alert message (each ``{{placeholder}}`` replaced by its text), so a
template the docs get wrong fails here.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar

import httpx

from scripts.devstack import ROOT, StackConfig
from tests.helpers import pipeline
from tests.helpers.polling import eventually

ALERTS_DOC = ROOT / "docs" / "alerts.md"
TV_RESENDS = 3  # TradingView resends an alert answered with a 5xx, 5 s apart
TV_RESEND_PAUSE_S = 5.0
T = TypeVar("T")
_PLACEHOLDER = re.compile(r"\{\{([a-z_.]+)\}\}")
_TITLED_BLOCK = re.compile(r"\*\*(?P<title>[^*]+)\*\*|```json\n(?P<body>.*?)```", re.DOTALL)
_MARKED = re.compile(
    r"<!-- template: (?P<name>[a-z0-9-]+) -->\n```(?P<kind>json|text)\n(?P<body>.*?)```", re.DOTALL
)
_TEXT_TEMPLATE = re.compile(r"`(\{\{strategy\.order\.action\}\} \{\{ticker\}\}[^`]*)`")


class PatientTransport(httpx.AsyncBaseTransport):
    """Retry a GET answered 503 with ``Retry-After``, as a careful API client does.

    The shared Postgres refuses connections now and then when several stacks run at once
    ("too many clients already"); the services then answer 503 with ``Retry-After``, which
    says that asking again is right. Only reads are retried, a few times: a lasting outage
    still fails the test.
    """

    ATTEMPTS = 5
    LONGEST_WAIT_S = 5.0

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for _ in range(self.ATTEMPTS - 1):
            response = await self._inner.handle_async_request(request)
            wait = response.headers.get("Retry-After")
            if request.method != "GET" or response.status_code != 503 or wait is None:
                return response
            await response.aclose()
            await asyncio.sleep(min(float(wait), self.LONGEST_WAIT_S))
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def api_client(connections: int = 20) -> httpx.AsyncClient:
    """Return an HTTP client for the stack's APIs, patient with a loaded machine.

    Idle connections are dropped after 2 s: the services (uvicorn) close theirs after 5 s,
    httpx keeps them 5 s too, and a request sent on a connection the server is closing
    fails with a ReadError, a race that a busy machine makes frequent.
    """
    limits = httpx.Limits(max_connections=connections, keepalive_expiry=2.0)
    transport = PatientTransport(httpx.AsyncHTTPTransport(limits=limits))
    return httpx.AsyncClient(timeout=60, transport=transport)


@cache
def json_templates() -> dict[str, list[str]]:
    """Return the JSON templates of docs/alerts.md by their bold title (some titles have two)."""
    text = ALERTS_DOC.read_text()
    section = text.split("### Templates to copy", 1)[1].split("\n## ", 1)[0]
    found: dict[str, list[str]] = {}
    title = ""
    for match in _TITLED_BLOCK.finditer(section):
        if match["title"]:
            title = match["title"]
        else:
            found.setdefault(title, []).append(match["body"])
    return found


@cache
def marked_templates() -> dict[str, str]:
    """Return the templates of docs/alerts.md marked ``<!-- template: NAME -->``, in order."""
    return {m["name"]: m["body"].strip() for m in _MARKED.finditer(ALERTS_DOC.read_text())}


def json_template(title: str, index: int = 0) -> str:
    """Return one JSON template of docs/alerts.md, failing with the titles there are."""
    templates = json_templates()
    if title not in templates:
        raise AssertionError(f"docs/alerts.md has no template {title!r}: {sorted(templates)}")
    return templates[title][index]


@cache
def text_template() -> str:
    """Return the one-line strategy template of docs/alerts.md."""
    match = _TEXT_TEMPLATE.search(ALERTS_DOC.read_text())
    if match is None:
        raise AssertionError("docs/alerts.md has no one-line strategy template")
    return match[1]


def render(template: str, values: Mapping[str, str]) -> str:
    """Replace every ``{{placeholder}}`` as TradingView does; every one must have a value."""
    missing = set(_PLACEHOLDER.findall(template)) - set(values)
    if missing:
        raise AssertionError(f"no value for {sorted(missing)} in {template!r}")
    return _PLACEHOLDER.sub(lambda m: values[m[1]], template)


def timenow() -> str:
    """Return ``{{timenow}}`` as TradingView writes it (UTC, to the second)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def post(client: httpx.AsyncClient, trader: pipeline.Trader, body: str) -> httpx.Response:
    """Send an alert's text as TradingView does: ``application/json`` if it is JSON, and
    again (up to 3 times, 5 s apart) after a 5xx, which says the alert was not stored.
    """
    try:
        json.loads(body)
    except ValueError:
        kind = "text/plain; charset=utf-8"
    else:
        kind = "application/json; charset=utf-8"
    headers = {"Content-Type": kind}
    response = await client.post(trader.webhook_url, content=body.encode(), headers=headers)
    for _ in range(TV_RESENDS):
        if response.status_code < 500:
            break
        await asyncio.sleep(TV_RESEND_PAUSE_S)
        response = await client.post(trader.webhook_url, content=body.encode(), headers=headers)
    return response


async def accepted(client: httpx.AsyncClient, trader: pipeline.Trader, body: str) -> str:
    """Send an alert; return its intent id, failing unless ingress stored it (202)."""
    resp = await post(client, trader, body)
    assert resp.status_code == 202, f"{body!r}: {resp.status_code} {resp.text}"
    intent_id: str = resp.json()["intent_id"]
    return intent_id


FINAL_ORDER_STATES = frozenset({"filled", "rejected", "failed", "canceled"})


async def settled_trail(
    client: httpx.AsyncClient,
    cfg: StackConfig,
    trader: pipeline.Trader,
    intent_id: str,
    timeout_s: float,
) -> dict[str, Any]:
    """Wait until the ledger shows the alert decided (refused, or its orders finished); return
    its trail.
    """
    found: dict[str, Any] = {}

    async def decided() -> bool:
        trail = await pipeline.trail(client, cfg, trader, intent_id)
        if trail is None or trail["intent"] is None:
            return False
        found.update(trail)
        if trail["intent"]["status"] == "rejected":
            return True
        orders = trail["orders"]
        return bool(orders) and all(o["status"] in FINAL_ORDER_STATES for o in orders)

    await eventually(
        decided, what=f"{trader.name}'s alert {intent_id} decided", timeout_s=timeout_s
    )
    return found


def client_order_id(intent_id: str, leg: int = 0) -> str:
    """Return the client order id the router gives an intent's leg (docs/router.md)."""
    return f"sp{intent_id}{leg}"

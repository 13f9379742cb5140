"""The banner every signed-in page shows while one of the tenant's notification channels is dead.

The notifier marks a channel dead when its provider refuses it for good (a deleted Discord
webhook, a blocked bot, a mailbox that does not exist) and never retries it: the trader learns
it here. Asking the notifier on every page would slow every page and tie the web app to it, so
the answer is kept for `TTL_S` per tenant in this process (the notifications page forgets it
after each change), and an unreachable notifier or an unfinished sign-up shows no banner.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import Request

from services.web.errors import ApiError, MissingApiKeyError, ServiceUnavailableError
from services.web.runtime import runtime_of
from services.web.session import current_session, signed_in_from
from services.web.tenant_api import TenantApi, service_urls
from services.web.tenant_keys import tenant_api_key

TTL_S = 30.0
TIMEOUT = httpx.Timeout(2.0)
CHANNELS = "/api/v1/notifications/channels"


@dataclass(frozen=True)
class DeadChannel:
    """What the banner says about one dead channel."""

    kind: str
    target: str
    reason: str


@dataclass
class DeadChannels:
    """The dead channels of each tenant, as the notifier last answered (per process)."""

    ttl_s: float = TTL_S
    _seen: dict[str, tuple[float, list[DeadChannel]]] = field(default_factory=dict)

    def cached(self, tenant_id: str) -> list[DeadChannel] | None:
        entry = self._seen.get(tenant_id)
        return entry[1] if entry and entry[0] > time.monotonic() else None

    def keep(self, tenant_id: str, dead: list[DeadChannel]) -> None:
        self._seen[tenant_id] = (time.monotonic() + self.ttl_s, dead)

    def forget(self, tenant_id: str) -> None:
        self._seen.pop(tenant_id, None)


def dead_of(channels: list[dict[str, Any]]) -> list[DeadChannel]:
    """The dead ones among the notifier's channels."""
    return [
        DeadChannel(
            kind=str(c.get("kind", "")),
            target=str(c.get("target", "")),
            reason=str(c.get("dead_reason") or "its provider refused it for good"),
        )
        for c in channels
        if c.get("status") == "dead"
    ]


def registry(request: Request) -> DeadChannels:
    """The app's `DeadChannels` (made on first use)."""
    state = request.app.state
    if not hasattr(state, "dead_channels"):
        state.dead_channels = DeadChannels()
    found: DeadChannels = state.dead_channels
    return found


async def dead_channels(request: Request) -> list[DeadChannel]:
    """The signed-in tenant's dead channels; empty when no one is signed in or it is unknown."""
    session = await current_session(request)
    if session is None or session.tenant_id is None or not session.verified:
        return []
    seen = registry(request)
    cached = seen.cached(session.tenant_id)
    if cached is not None:
        return cached
    try:
        key = await tenant_api_key(request, signed_in_from(request, session))
        urls = service_urls(runtime_of(request).settings)
        api = TenantApi(runtime_of(request).http, urls, key)
        response = await api.request("GET", "notifier", CHANNELS, http_timeout=TIMEOUT)
        dead = dead_of(response.json().get("channels", []))
    except (ApiError, ServiceUnavailableError, MissingApiKeyError, ValueError, AttributeError):
        dead = []
    seen.keep(session.tenant_id, dead)
    return dead

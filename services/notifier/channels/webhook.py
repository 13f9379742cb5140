"""The signed outbound webhook: a JSON POST the trader's own server verifies.

Headers: ``Sparky-Timestamp: <unix s>``, ``Sparky-Signature: v1=<hex HMAC-SHA256(secret,
timestamp + "." + body)>``, ``Sparky-Delivery: <send id>`` (the same on a resend: receivers
deduplicate by it). Body: ``{"type": "events", "delivery_id", "events": [{event_id, kind,
occurred_at, title, summary, data}]}``, or ``{"type": "verification", "delivery_id", "code"}``,
or ``{"type": "test", …}``. The URL must be https and public (unless the deployment allows
otherwise, for development); redirects are not followed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from services.notifier.channels.base import ChannelLimits, Outgoing, SendResult, Target
from services.notifier.channels.http import post
from services.notifier.domain.kinds import ChannelKind
from services.notifier.domain.notices import TEST_KIND, VERIFICATION_KIND, Notice
from services.notifier.errors import InvalidTargetError
from services.notifier.runtime import Runtime

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


def new_signing_secret() -> str:
    """Return a new signing secret (shown once to the trader)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Return the ``Sparky-Signature`` value of ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_global and not ip.is_multicast


async def check_webhook_url(url: str, *, allow_http: bool, allow_private: bool) -> tuple[str, str]:
    """Return ``(url, masked)``: https (or http when allowed), a host that resolves to public
    addresses only (unless allowed); raise `InvalidTargetError`."""
    url = url.strip()
    parts = urlsplit(url)
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes or not parts.hostname or parts.username or parts.password:
        raise InvalidTargetError(
            "A webhook needs an https:// URL without credentials in it.", field="target"
        )
    if not allow_private and not await _resolves_publicly(parts.hostname, parts.port):
        raise InvalidTargetError(
            "The webhook's host must resolve to public internet addresses.", field="target"
        )
    return url, f"{parts.hostname}{parts.path or '/'}"


async def _resolves_publicly(host: str, port: int | None) -> bool:
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port or 443)
    except OSError:
        return False
    return bool(found) and all(_is_public(str(info[4][0])) for info in found)


def _event(notice: Notice) -> dict[str, Any]:
    return {
        "event_id": notice.event_id,
        "kind": notice.kind,
        "occurred_at": notice.occurred_at.isoformat(),
        "title": notice.title,
        "summary": notice.summary,
        "data": notice.data,
    }


def body_of(message: Outgoing) -> dict[str, Any]:
    """Return the JSON document ``message`` is posted as."""
    first = message.notices[0]
    if first.kind == VERIFICATION_KIND:
        return {"type": "verification", "delivery_id": message.send_id, "code": first.short}
    kind = "test" if first.kind == TEST_KIND else "events"
    return {
        "type": kind,
        "delivery_id": message.send_id,
        "events": [_event(n) for n in message.notices],
    }


class WebhookChannel:
    """Posts signed JSON to a trader's URL."""

    kind = ChannelKind.WEBHOOK

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    def limits(self, target: Target) -> ChannelLimits:
        return ChannelLimits(min_interval_s=0.2, max_chars=1_000_000, max_notices=500)

    async def send(self, target: Target, message: Outgoing) -> SendResult:
        settings = self._rt.settings
        if not settings.webhook_allow_private:  # the name may resolve elsewhere by now
            host = urlsplit(target.address).hostname or ""
            if not await _resolves_publicly(host, urlsplit(target.address).port):
                return SendResult.retry("the webhook's host does not resolve publicly", "dns")
        body = json.dumps(body_of(message), default=str).encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "Sparky-Timestamp": str(timestamp),
            "Sparky-Signature": sign(target.secret or "", timestamp, body),
            "Sparky-Delivery": message.send_id,
        }
        return await post(
            self._rt.http,
            target.address,
            who="the webhook",
            content=body,
            headers=headers,
            timeout_s=settings.channel_timeout_s,
        )

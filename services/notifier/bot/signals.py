"""Signal posts to ingress: a post's text, as it is, to the tenant's webhook URL.

Ingress parses it with the same text grammar as a TradingView alert (``BUY BTCUSDT entry 60000
tp 62000 sl 59000``), so plan limits, trade settings, dedup and the trail apply unchanged. Its
answer decides what the trader hears: 202/200 nothing (the notifications tell the rest), a 4xx
the sentence ingress gave (an unparseable post is reported, never traded); a 429, 5xx or no
answer is tried again twice (ingress drops an identical body within its dedup window, so a
resend cannot trade twice), then reported.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

_RETRY_DELAYS_S = (1.0, 3.0)
_MAX_SENTENCE = 300


@dataclass(frozen=True)
class Forwarded:
    """What became of one post: ``refusal`` is None when ingress took it."""

    refusal: str | None = None
    label: str = "forwarded"  # the metric's outcome


def token_of(webhook_url: str) -> str | None:
    """Return the token of a Sparky webhook URL (``…/webhooks/tv/<token>``), else None."""
    head, marker, token = webhook_url.strip().partition("/webhooks/tv/")
    token = token.split("?", 1)[0].strip("/")
    if not marker or not head.startswith(("https://", "http://")) or not token:
        return None
    if not all(c.isalnum() or c in "-_" for c in token) or len(token) > 200:
        return None
    return token


def masked(webhook_url: str) -> str:
    """The webhook as shown back: its host and the token's first characters."""
    head, _, token = webhook_url.strip().partition("/webhooks/tv/")
    return f"{head}/webhooks/tv/{token[:8]}…"


class SignalForwarder:
    """POSTs posts to ingress's webhook path."""

    def __init__(self, ingress_url: str, client: httpx.AsyncClient) -> None:
        self._base = ingress_url.rstrip("/")
        self._client = client

    async def forward(self, token: str, text: str) -> Forwarded:
        """Send ``text`` to the webhook ``token``; say what came of it."""
        for delay in (*_RETRY_DELAYS_S, None):
            answer = await self._post(token, text)
            if answer is not None and answer.status_code < 500 and answer.status_code != 429:
                return _outcome(answer)
            if delay is None:
                break
            await asyncio.sleep(delay)
        return Forwarded("Sparky could not take the post just now; post it again.", "unavailable")

    async def _post(self, token: str, text: str) -> httpx.Response | None:
        try:
            return await self._client.post(
                f"{self._base}/webhooks/tv/{token}",
                content=text.encode("utf-8"),
                headers={"Content-Type": "text/plain; charset=utf-8"},
            )
        except httpx.HTTPError:
            return None


def _outcome(answer: httpx.Response) -> Forwarded:
    if answer.status_code in (200, 202):
        return Forwarded()
    try:
        body = answer.json()
    except ValueError:
        body = {}
    sentence = str(body.get("error") or f"ingress answered {answer.status_code}")
    details = [str(e.get("message")) for e in body.get("errors") or [] if isinstance(e, dict)]
    if details and details[0] not in sentence:
        sentence = f"{sentence} {details[0]}"
    return Forwarded(sentence[:_MAX_SENTENCE], "refused")

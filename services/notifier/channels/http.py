"""What the HTTP channels (Discord, the outbound webhook) share: classifying answers."""

from __future__ import annotations

import contextlib

import httpx

from services.notifier.channels.base import SendResult

DEAD_STATUSES = frozenset({401, 403, 404, 410})
_REASONS = {
    401: "the receiver refused our credentials (401)",
    403: "the receiver forbids us to post (403)",
    404: "the address no longer exists (404)",
    410: "the receiver says it is gone (410)",
}


def retry_after(response: httpx.Response) -> float | None:
    """Return the wait a 429 asks for: Discord's JSON ``retry_after`` (seconds), else the
    ``Retry-After`` header; None if neither says."""
    with contextlib.suppress(ValueError, TypeError, AttributeError):
        body = response.json()
        if isinstance(body, dict) and body.get("retry_after") is not None:
            return max(0.0, float(body["retry_after"]))
    with contextlib.suppress(ValueError, TypeError):
        return max(0.0, float(response.headers.get("retry-after", "")))
    return None


def classify(response: httpx.Response, *, who: str) -> SendResult:
    """Return what an HTTP answer means for the channel."""
    status = response.status_code
    if 200 <= status < 300:
        return SendResult.sent()
    if status in DEAD_STATUSES:
        return SendResult.dead(f"{who}: {_REASONS[status]}", f"http_{status}")
    if status == 429:
        return SendResult.retry(f"{who}: rate limited (429)", "http_429", retry_after(response))
    if status >= 500:
        return SendResult.retry(f"{who}: server error ({status})", "http_5xx")
    if status == 408:
        return SendResult.retry(f"{who}: timed out (408)", "timeout")
    return SendResult.refused(f"{who}: refused the message ({status})", f"http_{status}")


async def post(
    http: httpx.AsyncClient,
    url: str,
    *,
    who: str,
    content: bytes,
    headers: dict[str, str],
    timeout_s: float,
) -> SendResult:
    """POST ``content`` to ``url`` (no redirects followed); never raise for the network."""
    try:
        response = await http.post(url, content=content, headers=headers, timeout=timeout_s)
    except httpx.TimeoutException:
        return SendResult.retry(f"{who}: timed out", "timeout")
    except httpx.HTTPError as exc:
        return SendResult.retry(f"{who}: cannot connect ({type(exc).__name__})", "connect")
    if 300 <= response.status_code < 400:
        return SendResult.refused(f"{who}: answered with a redirect, not followed", "redirect")
    return classify(response, who=who)

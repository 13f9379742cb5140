"""Discord: a channel's incoming webhook URL; Markdown, escaped; 429 ``retry_after`` honoured.

The URL holds the webhook's token: it is stored sealed and never shown, logged or put in a
message (the API shows ``discord …/xyz``). Mentions are disabled (``allowed_mentions``), so an
escaped ``@everyone`` in a reason pings no one. The message ends with its delivery id in
Discord's small text, the same on a resend, so a reader (or a bot) can tell a repeat.
"""

from __future__ import annotations

import json

from services.notifier.channels.base import ChannelLimits, Outgoing, SendResult, Target
from services.notifier.channels.http import post
from services.notifier.domain.kinds import ChannelKind, Markup
from services.notifier.domain.markup import render
from services.notifier.errors import InvalidTargetError
from services.notifier.runtime import Runtime

MAX_CHARS = 2000
_FOOTER_ROOM = 60


def check_discord_url(url: str, prefix: str) -> tuple[str, str]:
    """Return ``(url, masked)`` for a Discord webhook URL under ``prefix``; raise
    `InvalidTargetError` otherwise."""
    url = url.strip()
    rest = url.removeprefix(prefix)
    parts = rest.split("/")
    if not url.startswith(prefix) or len(parts) != 2 or not all(parts) or "?" in rest:
        raise InvalidTargetError(
            f"A Discord channel needs the channel's webhook URL ({prefix}<id>/<token>).",
            field="target",
        )
    return url, f"discord …/{parts[1][-3:]}"


class DiscordChannel:
    """Posts to Discord incoming webhooks."""

    kind = ChannelKind.DISCORD

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    def limits(self, target: Target) -> ChannelLimits:
        # Discord allows about 5 posts per 2 s per webhook; its 429s say the rest.
        return ChannelLimits(min_interval_s=0.5, max_chars=MAX_CHARS, max_notices=500)

    async def send(self, target: Target, message: Outgoing) -> SendResult:
        text = render(message.notices, Markup.MARKDOWN, max_chars=MAX_CHARS - _FOOTER_ROOM)
        body = {
            "content": f"{text}\n-# Sparky delivery {message.send_id}",
            "allowed_mentions": {"parse": []},
        }
        return await post(
            self._rt.http,
            f"{target.address}?wait=true",
            who="Discord",
            content=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            timeout_s=self._rt.settings.channel_timeout_s,
        )

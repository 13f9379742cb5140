"""The Telegram Bot API client: python-telegram-bot's `Bot`, at a configurable API URL.

The bot token is part of every request URL (``/bot<token>/<method>``), so nothing that logs
URLs may log at INFO: httpx's request lines and the library's debug lines are silenced here,
once, before the first request.
"""

from __future__ import annotations

import logging
import os

from telegram import Bot
from telegram.request import HTTPXRequest

# How long one getUpdates call waits for an update (Telegram's long polling).
LONG_POLL_S = 25
_QUIET_LOGGERS = ("httpx", "httpcore", "telegram", "telegram.ext")


def silence_url_loggers() -> None:
    """Keep request URLs (which hold the bot token) out of the logs."""
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def make_bot(token: str, api_url: str, timeout_s: float = 10.0) -> Bot:
    """Return a bot talking to ``api_url`` (``https://api.telegram.org`` or a stand-in).

    Two connection pools, as the library recommends: one for the long getUpdates call, one
    for everything else, so a send never waits behind a poll.
    """
    silence_url_loggers()
    # Opt in to the library's coming behaviour (time periods as timedelta): no deprecation
    # warning per 429; `channels.telegram.retry_after_s` reads both forms.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    request = HTTPXRequest(
        connection_pool_size=64,
        read_timeout=timeout_s,
        write_timeout=timeout_s,
        connect_timeout=timeout_s,
        pool_timeout=timeout_s,
    )
    polling = HTTPXRequest(
        connection_pool_size=2,
        read_timeout=LONG_POLL_S + timeout_s,
        connect_timeout=timeout_s,
    )
    base = api_url.rstrip("/")
    return Bot(
        token,
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=request,
        get_updates_request=polling,
    )

"""The long-lived object: settings, database, sealed-value box, HTTP client, the channels by
kind, and the background work (EVENTS consumer, sender, daily summary; the Telegram bot).

Built in the app's lifespan (`services.notifier.app.running`), reached by routes as
``request.app.state.runtime``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx

from libs.common.messages.types import utcnow
from libs.common.sealing import DataBox
from services.notifier.channels.base import Channel
from services.notifier.config import NotifierSettings
from services.notifier.domain.kinds import ChannelKind
from services.notifier.sealing import data_box
from services.notifier.store.database import Database

if TYPE_CHECKING:
    from services.notifier.bot.telegram import TelegramBot

log = logging.getLogger(__name__)


def quiet_http_logs() -> None:
    """Keep httpx's request lines out of the logs: they hold Discord webhook tokens and the
    Telegram bot token (in the Bot API's URLs)."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


class Runtime:
    """What every part of the notifier shares."""

    def __init__(
        self,
        settings: NotifierSettings,
        db: Database,
        *,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.db = db
        self.box: DataBox = data_box(settings.data_key.get_secret_value())
        self.http = http or httpx.AsyncClient(
            timeout=settings.channel_timeout_s, follow_redirects=False
        )
        self.clock = clock
        self.channels: dict[ChannelKind, Channel] = {}
        self.telegram: TelegramBot | None = None  # the bot, when a token is configured
        self.wake = asyncio.Event()  # set when deliveries were added: the sender looks at once
        self._tasks: list[asyncio.Task[None]] = []

    def register(self, channel: Channel) -> None:
        """Make ``channel`` the sender of its kind."""
        self.channels[channel.kind] = channel

    def enabled(self, kind: ChannelKind) -> bool:
        """Whether channels of ``kind`` can be added and sent to on this deployment."""
        return kind in self.channels

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run ``work`` in the background until `close`; a crash of it is logged loudly."""
        task = asyncio.create_task(work, name=name)
        task.add_done_callback(_report)
        self._tasks.append(task)

    async def close(self) -> None:
        """Cancel the background work; close the HTTP client and the engine."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        await self.http.aclose()
        await self.db.engine.dispose()


def _report(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background task %s stopped", task.get_name(), exc_info=task.exception())

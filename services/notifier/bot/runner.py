"""How updates reach the bot: long polling (the default) or Telegram's webhook.

Polling: one long ``getUpdates`` at a time; the next call's ``offset`` confirms what was
handled. An update whose handling met a database or NATS outage is not confirmed and comes
back; any other failure is logged and passed over, so one bad update cannot stall the bot.
Handled ids are stored (`store.first_time`), so an update offered twice acts once. Only one
process may poll a token (Telegram answers 409 to a second one): the notifier runs one bot.

Webhook: at start the bot registers ``<public URL>/telegram/webhook`` with a secret token,
which Telegram sends back in ``X-Telegram-Bot-Api-Secret-Token`` (`services.notifier.api.telegram`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from telegram import Bot, Update
from telegram.error import RetryAfter, TelegramError

from libs.common.db import database_unavailable
from services.notifier.bot.client import LONG_POLL_S
from services.notifier.bot.handling import UpdateHandler
from services.notifier.channels.telegram import retry_after_s
from services.notifier.store import telegram as store
from services.notifier.store.database import Database

log = logging.getLogger(__name__)
ALLOWED_UPDATES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "callback_query",
)
KEEP_HANDLED = timedelta(hours=48)  # Telegram keeps an unconfirmed update for 24 hours
_MAX_BACKOFF_S = 30.0


async def start_bot(bot: Bot) -> None:
    """Initialize the bot (getMe), retrying until Telegram answers."""
    delay = 1.0
    while True:
        try:
            await bot.initialize()
        except TelegramError as error:
            log.warning("telegram not reachable yet", extra={"error": type(error).__name__})
            await asyncio.sleep(delay)
            delay = min(delay * 2, _MAX_BACKOFF_S)
        else:
            return


async def use_webhook(bot: Bot, url: str, secret: str) -> None:
    """Ask Telegram to POST updates to ``url`` with ``secret`` in the secret-token header."""
    await start_bot(bot)
    await bot.set_webhook(url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES))


class Poller:
    """The long-polling loop."""

    def __init__(
        self, bot: Bot, handler: UpdateHandler, db: Database, clock: Callable[[], datetime]
    ) -> None:
        self._bot = bot
        self._handler = handler
        self._db = db
        self._clock = clock
        self._offset: int | None = None
        self._pruned_at: datetime | None = None

    async def run(self) -> None:
        """Poll until cancelled; nothing but cancellation ends it."""
        await start_bot(self._bot)
        delay = 1.0
        webhook_deleted = False
        while True:
            try:
                if not webhook_deleted:
                    await self._bot.delete_webhook()  # getUpdates is refused while one is set
                    webhook_deleted = True
                await self._poll_once()
                await self._prune()
            except RetryAfter as error:
                await asyncio.sleep(retry_after_s(error))
            except Exception as error:  # a network error, 409 (another poller), a DB outage
                if not isinstance(error, TelegramError) and not database_unavailable(error):
                    raise  # a bug: crash loudly (the runtime logs the task's end)
                log.warning("telegram polling failed", extra={"error": type(error).__name__})
                await asyncio.sleep(delay)
                delay = min(delay * 2, _MAX_BACKOFF_S)
            else:
                delay = 1.0

    async def _poll_once(self) -> None:
        updates = await self._bot.get_updates(
            offset=self._offset, timeout=LONG_POLL_S, allowed_updates=list(ALLOWED_UPDATES)
        )
        await self._handle_all(updates)

    async def _handle_all(self, updates: tuple[Update, ...]) -> None:
        for update in updates:
            try:
                await self._handler.handle(update)
            except Exception as error:
                if database_unavailable(error):
                    log.warning("telegram update waits for the database")
                    await asyncio.sleep(1.0)
                    return  # not confirmed: offered again by the next getUpdates
                log.exception("telegram update failed; passed over")
            self._offset = update.update_id + 1

    async def _prune(self) -> None:
        now = self._clock()
        if self._pruned_at is not None and now - self._pruned_at < timedelta(hours=1):
            return
        self._pruned_at = now
        async with self._db.as_writer() as conn:
            await store.forget_updates_before(conn, now - KEEP_HANDLED)

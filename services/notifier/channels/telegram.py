"""The Telegram channel: notices as one HTML message to a linked chat, through the Bot API.

Limits are data (`channel_limits`): one message per second to a private chat, one per three
seconds to a group or channel (Telegram's 20 a minute), and the bot's 30 a second in all,
which only the process-wide `Pacer` can see (the sender's limits are per target). Telegram's
answers come back as `SendResult`s: 429 → retry after its ``retry_after``; 403 (the user
blocked the bot, was deactivated, or the bot was removed from the group), 400 "chat not found"
and a group that moved (upgraded to a supergroup) → dead, with the reason in words; another 400
(this message's text) → refused, the channel goes on; timeouts and 5xx → retry with the
sender's backoff.
"""

from __future__ import annotations

import datetime as dtm
import warnings
from collections.abc import Callable
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from services.notifier.channels.base import ChannelLimits, Outgoing, SendResult, Target
from services.notifier.channels.telegram_limits import LIMITS, Pacer, is_group
from services.notifier.domain.kinds import ChannelKind, Markup
from services.notifier.domain.markup import render

MAX_CHARS = 4000  # Telegram holds 4096 characters after entities are parsed: room for tags
_PRIVATE = ChannelLimits(min_interval_s=LIMITS.per_chat_interval_s, max_chars=MAX_CHARS)
_GROUP = ChannelLimits(
    min_interval_s=LIMITS.group_window_s / LIMITS.group_per_window, max_chars=MAX_CHARS
)
# Bad requests that say the chat is gone for good (Telegram's descriptions, lower case).
_GONE = ("chat not found", "peer_id_invalid", "user not found", "chat_id is empty")
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def channel_limits(chat_id: int) -> ChannelLimits:
    """Return how often one chat may be sent to."""
    return _GROUP if is_group(chat_id) else _PRIVATE


def retry_after_s(error: RetryAfter) -> float:
    """Return Telegram's ``retry_after`` in seconds (an int or a timedelta by library version)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def _bad_request(error: TelegramError) -> SendResult:
    if any(gone in error.message.lower() for gone in _GONE):
        return SendResult.dead("Telegram no longer knows this chat.", "http_400")
    return SendResult.refused("Telegram refused the message.", "http_400")


# In this order: ChatMigrated and TimedOut are kinds of other errors below them.
_RESULTS: tuple[tuple[type[TelegramError], Callable[[Any], SendResult]], ...] = (
    (
        RetryAfter,
        lambda e: SendResult.retry("Telegram asked to slow down.", "http_429", retry_after_s(e)),
    ),
    (Forbidden, lambda e: SendResult.dead(_forbidden_reason(e.message), "http_403")),
    (
        ChatMigrated,
        lambda _: SendResult.dead(
            "The group became a supergroup: link the new group again.", "chat_migrated"
        ),
    ),
    (BadRequest, _bad_request),
    (TimedOut, lambda _: SendResult.retry("Telegram did not answer in time.", "timeout")),
    # The bot's token, not the chat: never the channel's end.
    (InvalidToken, lambda _: SendResult.retry("The bot's token was refused.", "http_401")),
    (NetworkError, lambda _: SendResult.retry("Telegram could not be reached.", "http_5xx")),
)


def result_of(error: TelegramError) -> SendResult:
    """Translate the library's exception for a send into what the sender does next."""
    for kind, result in _RESULTS:
        if isinstance(error, kind):
            return result(error)
    return SendResult.retry("Telegram answered with an error.", "error")


def _forbidden_reason(description: str) -> str:
    text = description.lower()
    if "blocked" in text:
        return "The bot was blocked in this chat."
    if "deactivated" in text:
        return "This Telegram account was deleted."
    if "kicked" in text or "not a member" in text:
        return "The bot was removed from this chat."
    return "Telegram does not let the bot write to this chat any more."


class TelegramChannel:
    """Sends notices to linked chats; shares its `Pacer` with the bot's replies."""

    def __init__(self, bot: Bot, pacer: Pacer) -> None:
        self._bot = bot
        self._pacer = pacer

    @property
    def kind(self) -> ChannelKind:
        return ChannelKind.TELEGRAM

    def limits(self, target: Target) -> ChannelLimits:
        """Return the limits for the target's chat (groups are slower)."""
        return channel_limits(int(target.address))

    async def send(self, target: Target, message: Outgoing) -> SendResult:
        """Send the notices as one HTML message; never raise for Telegram's answers."""
        text = render(message.notices, Markup.HTML, max_chars=MAX_CHARS)
        return await send_html(self._bot, self._pacer, int(target.address), text)


async def send_html(
    bot: Bot,
    pacer: Pacer,
    chat_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> SendResult:
    """Send already escaped HTML ``text`` (with buttons, if any) to ``chat_id`` within the
    limits."""
    await pacer.wait(chat_id)
    try:
        await bot.send_message(
            chat_id,
            text,
            parse_mode="HTML",
            link_preview_options=_NO_PREVIEW,
            reply_markup=markup,
        )
    except TelegramError as error:
        result = result_of(error)
        if result.retry_after_s is not None:
            pacer.hold(chat_id, result.retry_after_s)
        return result
    return SendResult.sent()

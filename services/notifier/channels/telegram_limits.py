"""Telegram's flood limits as data, and the pacer that keeps every message of the bot in them.

Telegram answers 429 (``retry_after``) to a bot that sends more than about one message per
second to one chat, 20 per minute to one group or channel, or 30 per second in all. Both the
notification channel and the bot's replies go through one `Pacer` per process, so together
they stay inside; a 429 that still comes (another process, Telegram's own judgement) holds
the chat for its ``retry_after``. Only one notifier process runs the bot (getUpdates admits one
poller per token), and only it sends Telegram messages.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class TelegramLimits:
    """How fast the bot may send: each limit with a small margin over Telegram's."""

    per_chat_interval_s: float = 1.05
    group_window_s: float = 61.0
    group_per_window: int = 20
    bot_window_s: float = 1.05
    bot_per_window: int = 30


LIMITS = TelegramLimits()


def is_group(chat_id: int) -> bool:
    """Groups, supergroups and channels have negative ids; private chats positive ones."""
    return chat_id < 0


class Pacer:
    """Wait until a message to a chat is within every limit, then count it."""

    def __init__(
        self, limits: TelegramLimits = LIMITS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limits = limits
        self._clock = clock
        self._last: dict[int, float] = {}
        self._held: dict[int, float] = {}
        self._groups: dict[int, collections.deque[float]] = collections.defaultdict(
            collections.deque
        )
        self._bot: collections.deque[float] = collections.deque()

    async def wait(self, chat_id: int) -> None:
        """Return once a message to ``chat_id`` may go; it is counted as sent from then."""
        while True:
            delay = self._delay(chat_id, self._clock())
            if delay <= 0:
                self._count(chat_id, self._clock())
                return
            await asyncio.sleep(delay)

    def hold(self, chat_id: int, seconds: float) -> None:
        """Telegram said 429: send nothing to ``chat_id`` for ``seconds``."""
        self._held[chat_id] = max(self._held.get(chat_id, 0.0), self._clock() + seconds)

    def delay(self, chat_id: int) -> float:
        """How long a message to ``chat_id`` would wait now (0: it may go)."""
        return max(0.0, self._delay(chat_id, self._clock()))

    def _delay(self, chat_id: int, now: float) -> float:
        limits = self._limits
        waits = [self._held.get(chat_id, now) - now]
        last = self._last.get(chat_id)
        if last is not None:
            waits.append(last + limits.per_chat_interval_s - now)
        if is_group(chat_id):
            waits.append(
                _window_wait(
                    self._groups[chat_id], limits.group_window_s, limits.group_per_window, now
                )
            )
        waits.append(_window_wait(self._bot, limits.bot_window_s, limits.bot_per_window, now))
        return max(waits)

    def _count(self, chat_id: int, now: float) -> None:
        self._last[chat_id] = now
        if is_group(chat_id):
            self._groups[chat_id].append(now)
        self._bot.append(now)


def _window_wait(sent: collections.deque[float], window: float, most: int, now: float) -> float:
    while sent and sent[0] <= now - window:
        sent.popleft()
    if len(sent) < most:
        return 0.0
    return sent[0] + window - now

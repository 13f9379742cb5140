"""The pacer keeps the bot within Telegram's limits: per chat, per group, per bot."""

from __future__ import annotations

import asyncio

import pytest

from services.notifier.channels.telegram_limits import LIMITS, Pacer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_private_chat_gets_one_message_per_interval() -> None:
    clock = Clock()
    pacer = Pacer(clock=clock)
    asyncio.run(pacer.wait(42))
    assert pacer.delay(42) == pytest.approx(LIMITS.per_chat_interval_s)
    clock.now += LIMITS.per_chat_interval_s
    assert pacer.delay(42) == 0
    assert pacer.delay(43) == 0  # another chat is not held back


def test_a_group_gets_at_most_twenty_a_minute() -> None:
    clock = Clock()
    pacer = Pacer(clock=clock)
    for _ in range(LIMITS.group_per_window):
        assert pacer.delay(-100) == 0
        asyncio.run(pacer.wait(-100))
        clock.now += LIMITS.per_chat_interval_s
    assert pacer.delay(-100) > 30  # the 21st waits for the window


def test_the_bot_sends_at_most_thirty_a_second_in_all() -> None:
    clock = Clock()
    pacer = Pacer(clock=clock)
    for chat in range(1, LIMITS.bot_per_window + 1):
        asyncio.run(pacer.wait(chat))
    assert pacer.delay(999) > 0
    clock.now += LIMITS.bot_window_s
    assert pacer.delay(999) == 0


def test_a_429_holds_the_chat_for_its_retry_after() -> None:
    clock = Clock()
    pacer = Pacer(clock=clock)
    pacer.hold(42, 7)
    assert pacer.delay(42) == pytest.approx(7)

"""The Telegram stand-in answers python-telegram-bot as Telegram does, limits included: the
other Telegram tests rely on it refusing what Telegram would refuse."""

from __future__ import annotations

import asyncio

import pytest
from telegram.error import BadRequest, Conflict, Forbidden, RetryAfter

from services.notifier.bot.client import make_bot
from tests.helpers import telegram_updates as tg
from tests.helpers.polling import eventually
from tests.helpers.telegram_api import TelegramApiStandIn

TOKEN = "123456:stand-in-token"


async def test_the_library_polls_updates_and_sends_through_the_stand_in() -> None:
    async with TelegramApiStandIn(TOKEN) as api:
        bot = make_bot(TOKEN, api.base_url)
        async with bot:
            assert bot.username == "sparky_test_bot"
            calls = api.state.get_updates_calls
            waiting = asyncio.create_task(bot.get_updates(timeout=5))
            await eventually(
                lambda: api.state.get_updates_calls > calls, what="the long poll at the stand-in"
            )
            first = await api.inject(tg.private_message(42, "/start code"))
            updates = await waiting
            assert [u.update_id for u in updates] == [first]
            assert updates[0].message is not None
            assert updates[0].message.text == "/start code"
            # The next offset confirms it: it is never offered again.
            assert await bot.get_updates(offset=first + 1, timeout=0) == ()
            await bot.send_message(42, "<b>hi</b> &amp; bye", parse_mode="HTML")
            assert [m.text for m in api.sent_to(42)] == ["<b>hi</b> &amp; bye"]


async def test_the_stand_in_refuses_what_telegram_refuses() -> None:
    # A clock that stands still: every send is in the same second, however slow the machine.
    async with TelegramApiStandIn(TOKEN, clock=lambda: 100.0) as api:
        bot = make_bot(TOKEN, api.base_url)
        async with bot:
            await bot.send_message(42, "one")
            with pytest.raises(RetryAfter):  # a second message to one chat within a second
                await bot.send_message(42, "two")
            assert [r.limit for r in api.state.flood_refusals] == ["chat"]
            api.block(43)
            with pytest.raises(Forbidden, match="blocked"):
                await bot.send_message(43, "x")
            api.forget(44)
            with pytest.raises(BadRequest, match=r"(?i)chat not found"):
                await bot.send_message(44, "x")
            with pytest.raises(BadRequest, match=r"(?i)parse entities"):
                await bot.send_message(45, "a < b", parse_mode="HTML")
            api.fail_next(3)
            with pytest.raises(RetryAfter):
                await bot.send_message(46, "x")
            for chat in range(100, 129):  # 29 more in this second: the bot's 30th is refused
                await bot.send_message(chat, "x")
            with pytest.raises(RetryAfter):
                await bot.send_message(200, "x")
            assert api.state.flood_refusals[-1].limit == "bot"
            await bot.set_webhook("http://127.0.0.1:1/telegram/webhook", secret_token="s")
            with pytest.raises(Conflict):
                await bot.get_updates(timeout=0)


async def test_a_group_gets_twenty_messages_a_minute() -> None:
    clock = [0.0]
    async with TelegramApiStandIn(TOKEN, clock=lambda: clock[0]) as api:
        bot = make_bot(TOKEN, api.base_url)
        async with bot:
            for _ in range(20):
                await bot.send_message(-100, "x")
                clock[0] += 1.0
            with pytest.raises(RetryAfter):
                await bot.send_message(-100, "x")
            assert api.state.flood_refusals[-1].limit == "group"

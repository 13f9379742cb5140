"""The bot and the Telegram channel against the Bot API stand-in and real Postgres: linking by
deep link, each update handled once across restarts, unlinked chats told how to link, and
Telegram's answers turned into what the sender does (dead chat, retry after)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from libs.common.messages.types import utcnow
from services.notifier.bot import telegram as telegram_bot
from services.notifier.bot.runner import Poller
from services.notifier.bot.telegram import TelegramBot
from services.notifier.channels.base import Outcome, Outgoing, Target
from services.notifier.channels.telegram import TelegramChannel
from services.notifier.config import NotifierSettings
from services.notifier.domain.kinds import ChannelKind
from services.notifier.domain.notices import Notice
from services.notifier.runtime import Runtime
from services.notifier.store.channels import code_digest, list_channels
from services.notifier.store.database import Database, migrate
from services.notifier.store.tables import link_codes
from tests.helpers import telegram_updates as tg
from tests.helpers.telegram_api import BOT_USERNAME, TelegramApiStandIn

TOKEN = "424242:integration-token"


@pytest.fixture
async def api() -> AsyncIterator[TelegramApiStandIn]:
    async with TelegramApiStandIn(TOKEN) as stand_in:
        yield stand_in


@pytest.fixture
async def bot_runtime(
    settings: NotifierSettings, api: TelegramApiStandIn
) -> AsyncIterator[tuple[Runtime, TelegramBot]]:
    with_bot = settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(TOKEN),
            "telegram_api_url": api.base_url,
            "telegram_bot_username": BOT_USERNAME,
        }
    )
    await migrate(with_bot)
    runtime = Runtime(with_bot, Database.of(with_bot))
    bot = telegram_bot.build(runtime)
    assert bot is not None
    yield runtime, bot
    await telegram_bot.stop(bot)
    await runtime.close()


async def _link_code(runtime: Runtime, tenant: str) -> str:
    code = secrets.token_urlsafe(12)
    now = utcnow()
    async with runtime.db.as_writer() as conn:
        await conn.execute(
            link_codes.insert().values(
                code_digest=code_digest(code),
                tenant_id=tenant,
                created_at=now,
                expires_at=now + timedelta(minutes=15),
            )
        )
    return code


def _poll(runtime: Runtime, bot: TelegramBot) -> asyncio.Task[None]:
    poller = Poller(bot.bot, bot.handler, runtime.db, runtime.clock)
    return asyncio.create_task(poller.run())


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_deep_link_links_the_chat_once_and_a_redelivered_update_does_nothing(
    bot_runtime: tuple[Runtime, TelegramBot], api: TelegramApiStandIn
) -> None:
    runtime, bot = bot_runtime
    code = await _link_code(runtime, "t-link")
    task = _poll(runtime, bot)
    try:
        update_id = await api.inject(tg.private_message(42, f"/start {code}"))
        await api.wait_for(lambda: len(api.sent_to(42)) == 1, "the linked answer")
        assert api.sent_to(42)[0].text.startswith("Linked (@u42)")
        async with runtime.db.as_tenant("t-link") as conn:
            found = await list_channels(conn, "t-link")
        assert [(c.kind, c.status, c.chat_id, c.target) for c in found] == [
            (ChannelKind.TELEGRAM, "active", 42, "@u42")
        ]
        # Telegram offers it again (its confirmation was lost), and the bot restarts.
        await _stop(task)
        await api.redeliver(update_id)
        task = _poll(runtime, bot)
        later = await api.inject(tg.private_message(42, f"/start {code}"))  # a used code
        await api.wait_for(lambda: len(api.sent_to(42)) == 2, "the refusal of a used code")
        await api.wait_for(lambda: api.state.confirmed_below > later, "the confirmation")
        assert "not valid any more" in api.sent_to(42)[1].text
        assert len(api.sent_to(42)) == 2  # the redelivered /start was not answered again
    finally:
        await _stop(task)


async def test_an_unlinked_chat_is_told_only_how_to_link(
    bot_runtime: tuple[Runtime, TelegramBot], api: TelegramApiStandIn
) -> None:
    runtime, bot = bot_runtime
    task = _poll(runtime, bot)
    try:
        await api.inject(tg.private_message(77, "/status"))
        await api.wait_for(lambda: len(api.sent_to(77)) == 1, "the answer")
        assert "not linked" in api.sent_to(77)[0].text
        async with runtime.db.as_writer() as conn:
            handled = await conn.scalar(sa.text("SELECT count(*) FROM telegram_updates"))
        assert handled == 1
    finally:
        await _stop(task)


def _outgoing(tenant: str) -> Outgoing:
    notice = Notice(
        event_id="e1",
        tenant_id=tenant,
        kind="order.filled",
        occurred_at=utcnow(),
        title="Order filled",
        summary="BTCUSDT buy 0.1 @ 60000 <main & co>",
        short="BTCUSDT +0.1",
    )
    return Outgoing(send_id="s1", notices=(notice,))


def _target(chat_id: int) -> Target:
    return Target("c1", "t1", ChannelKind.TELEGRAM, str(chat_id))


async def test_the_channel_sends_escaped_html_and_reads_telegrams_refusals(
    bot_runtime: tuple[Runtime, TelegramBot], api: TelegramApiStandIn
) -> None:
    _, bot = bot_runtime
    channel = TelegramChannel(bot.bot, bot.pacer)
    assert (await channel.send(_target(42), _outgoing("t1"))).outcome is Outcome.SENT
    assert api.sent_to(42)[0].text == (
        "<b>Order filled</b>: BTCUSDT buy 0.1 @ 60000 &lt;main &amp; co&gt;"
    )
    assert api.sent_to(42)[0].parse_mode == "HTML"
    api.block(43)
    blocked = await channel.send(_target(43), _outgoing("t1"))
    assert (blocked.outcome, blocked.reason) == (Outcome.DEAD, "The bot was blocked in this chat.")
    api.forget(-1001)
    gone = await channel.send(_target(-1001), _outgoing("t1"))
    assert gone.outcome is Outcome.DEAD
    api.fail_next(7)
    later = await channel.send(_target(44), _outgoing("t1"))
    assert (later.outcome, later.retry_after_s, later.code) == (Outcome.RETRY, 7.0, "http_429")
    assert channel.limits(_target(-1001)).min_interval_s >= 3.0
    assert channel.limits(_target(42)).min_interval_s >= 1.0

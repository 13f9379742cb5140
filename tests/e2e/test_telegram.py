"""The Telegram bot on the whole stack: every service a process, the notifier one more, and
Telegram a stand-in on loopback that refuses (429) whatever Telegram's flood limits would.

A trader links a chat by the deep link the API gives; fills reach it once each, a burst
coalesced within the limits and none lost; `/pause` (confirmed by a button) stops the next
alert with the kill-switch reason; a channel mapped to the trader's webhook trades its posts
and never its edits; a chat that blocked the bot marks the channel dead.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio

from scripts.devstack import ServiceProcess, Stack
from tests.helpers import pipeline
from tests.helpers import telegram_updates as tg
from tests.helpers.e2e_alerts import accepted, api_client, settled_trail
from tests.helpers.namespaces import new_namespace
from tests.helpers.polling import eventually
from tests.helpers.servers import ServerUrls
from tests.helpers.stack import PIPELINE, running_stack
from tests.helpers.telegram_api import BOT_USERNAME, JITTER_S, TelegramApiStandIn
from tests.helpers.vault import VaultServer

pytestmark = pytest.mark.asyncio(loop_scope="module")

TOKEN = "5150:e2e-bot-token-not-a-secret"  # the stand-in's
WAIT_S = 60.0
_FOLDED = re.compile(r"<b>(\d+) orders filled</b>")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def telegram() -> AsyncIterator[TelegramApiStandIn]:
    async with TelegramApiStandIn(TOKEN) as api:
        yield api


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(
    server_urls: ServerUrls,
    vault: VaultServer,
    telegram: TelegramApiStandIn,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    """The pipeline and the notifier, its bot on the Bot API stand-in."""
    bot = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": telegram.base_url,
        "TELEGRAM_BOT_USERNAME": BOT_USERNAME,
    }
    async with running_stack(
        server_urls,
        vault,
        new_namespace(),
        Path(tmp_path_factory.mktemp("stack")),
        (*PIPELINE, "notifier"),
        extra_env={"notifier": bot},
    ) as running:
        yield running
        log = running["notifier"].log_path.read_text(errors="replace")
        assert TOKEN not in log, "the bot token was logged"


@pytest.fixture(scope="module")
def notifier(stack: Stack) -> ServiceProcess:
    return stack["notifier"]


@pytest_asyncio.fixture(loop_scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with api_client() as http:
        yield http


async def _trader(client: httpx.AsyncClient, stack: Stack, name: str) -> pipeline.Trader:
    trader = await pipeline.provision(client, stack.cfg, name)
    await pipeline.pin_prices(client, stack.cfg, {"BTCUSDT": "60000"})
    return trader


async def _link(
    client: httpx.AsyncClient,
    notifier: ServiceProcess,
    telegram: TelegramApiStandIn,
    trader: pipeline.Trader,
    chat_id: int,
) -> None:
    """Link ``chat_id`` the way a trader does: the API's deep link, opened in Telegram."""
    answer: dict[str, Any] = {}

    async def made() -> bool:  # the notifier learns the new API key within seconds
        resp = await client.post(
            f"{notifier.url}/api/v1/notifications/channels/telegram", headers=trader.auth
        )
        assert resp.status_code in (201, 401, 503), resp.text
        answer.update(resp.json())
        return resp.status_code == 201

    await eventually(made, what="a deep link", timeout_s=15)
    prefix = f"https://t.me/{BOT_USERNAME}?start="
    assert answer["link"].startswith(prefix)
    await telegram.inject(tg.private_message(chat_id, "/start " + answer["link"][len(prefix) :]))
    await telegram.wait_for(lambda: _said(telegram, chat_id, "Linked"), "the chat linked")


def _said(telegram: TelegramApiStandIn, chat_id: int, text: str) -> bool:
    return any(text in message.text for message in telegram.sent_to(chat_id))


def _fills_told(telegram: TelegramApiStandIn, chat_id: int) -> int:
    told = 0
    for message in telegram.sent_to(chat_id):
        for line in message.text.splitlines():
            folded = _FOLDED.search(line)
            told += int(folded.group(1)) if folded else line.startswith("<b>Order filled</b>")
    return told


async def _settled(stack: Stack, trader: pipeline.Trader) -> dict[str, int]:
    """The trader's deliveries by kind and state (``order.filled:sent``), once none waits."""
    schema = stack.cfg.schema("notifier")
    url = stack.cfg.infra.database_url
    states: dict[str, int] = {}

    async def done() -> bool:
        conn = await asyncpg.connect(url)
        try:
            rows = await conn.fetch(
                f"SELECT kind || ':' || state AS state, count(*) AS n "
                f'FROM "{schema}".deliveries WHERE tenant_id = $1 GROUP BY 1',
                trader.tenant_id,
            )
        finally:
            await conn.close()
        states.clear()
        states.update({row["state"]: row["n"] for row in rows})
        waiting = [k for k in states if k.endswith((":pending", ":sending"))]
        return bool(states) and not waiting

    await eventually(done, what="the deliveries settled", timeout_s=WAIT_S, interval_s=0.3)
    return states


async def test_a_fill_reaches_the_linked_chat_exactly_once(
    stack: Stack, notifier: ServiceProcess, telegram: TelegramApiStandIn, client: httpx.AsyncClient
) -> None:
    trader = await _trader(client, stack, "tg-once")
    await _link(client, notifier, telegram, trader, 6001)
    intent = await accepted(client, trader, "buy BTCUSDT 0.01")
    await settled_trail(client, stack.cfg, trader, intent, WAIT_S)
    await telegram.wait_for(lambda: _fills_told(telegram, 6001) >= 1, "the fill", WAIT_S)
    states = await _settled(stack, trader)
    # provision's probes of ingress ("{}" until it knows the webhook) may be told as refusals
    assert {k: n for k, n in states.items() if k.startswith("order.")} == {"order.filled:sent": 1}
    assert _fills_told(telegram, 6001) == 1
    (fill,) = [m for m in telegram.sent_to(6001) if "Order filled" in m.text]
    assert fill.parse_mode == "HTML"
    assert "BTC/USDT buy 0.01 @ 60000" in fill.text

    await telegram.inject(tg.private_message(6001, "/positions"))
    await telegram.wait_for(lambda: _said(telegram, 6001, "Open positions"), "/positions")
    positions = next(m.text for m in telegram.sent_to(6001) if "Open positions" in m.text)
    assert "BTC/USDT (main): long 0.00999" in positions  # 0.01 less the fee taken in BTC
    await telegram.inject(tg.private_message(6001, "/pnl"))
    await telegram.wait_for(lambda: _said(telegram, 6001, "<b>PnL</b>"), "/pnl")


async def test_a_burst_of_fills_is_coalesced_within_telegrams_limits_and_none_lost(
    stack: Stack, notifier: ServiceProcess, telegram: TelegramApiStandIn, client: httpx.AsyncClient
) -> None:
    trader = await _trader(client, stack, "tg-burst")
    await _link(client, notifier, telegram, trader, 6002)
    burst = 40
    # Distinct bodies: ingress drops an identical one within its dedup window.
    intents = [await accepted(client, trader, f"buy BTCUSDT 0.001{i:02d}") for i in range(burst)]
    for intent in intents:
        await settled_trail(client, stack.cfg, trader, intent, WAIT_S)
    await telegram.wait_for(lambda: _fills_told(telegram, 6002) >= burst, "every fill", WAIT_S)
    states = await _settled(stack, trader)
    assert states.get("order.filled:sent") == burst, states
    assert all(k.endswith((":sent", ":dropped")) for k in states), states
    assert _fills_told(telegram, 6002) == burst
    messages = [m for m in telegram.sent_to(6002) if "illed" in m.text]
    assert len(messages) < burst  # coalesced
    gaps = [b.at - a.at for a, b in itertools.pairwise(messages)]
    assert all(gap >= 1.0 - JITTER_S for gap in gaps), gaps
    assert telegram.state.flood_refusals == []


async def test_pause_confirmed_by_its_button_stops_the_next_alert_with_the_kill_switch(
    stack: Stack, notifier: ServiceProcess, telegram: TelegramApiStandIn, client: httpx.AsyncClient
) -> None:
    trader = await _trader(client, stack, "tg-pause")
    chat = 6003
    await _link(client, notifier, telegram, trader, chat)
    await telegram.inject(tg.private_message(chat, "/pause"))
    await telegram.wait_for(lambda: _said(telegram, chat, "Stop all trading"), "the question")
    question = next(m for m in telegram.sent_to(chat) if "Stop all trading" in m.text)
    assert question.reply_markup is not None
    yes = question.reply_markup["inline_keyboard"][0][0]["callback_data"]
    await telegram.inject(tg.callback_query(chat, yes, question.message_id, "press-1"))
    await telegram.wait_for(
        lambda: any("paused" in e.text for e in telegram.state.edits if e.chat_id == chat),
        "the pause confirmed",
    )
    assert any(a["callback_query_id"] == "press-1" for a in telegram.state.answered_callbacks)

    intent = await accepted(client, trader, "buy BTCUSDT 0.01")
    trail = await settled_trail(client, stack.cfg, trader, intent, WAIT_S)
    assert trail["intent"]["status"] == "rejected"
    assert trail["intent"]["reject_reason"] == "kill_switch"
    assert trail["orders"] == []
    await telegram.wait_for(lambda: _said(telegram, chat, "Alert rejected"), "the rejection told")

    await telegram.inject(tg.private_message(chat, "/status"))
    await telegram.wait_for(lambda: _said(telegram, chat, "paused (kill switch)"), "/status")
    status = next(m.text for m in telegram.sent_to(chat) if "<b>Plan</b>" in m.text)
    assert "main: binance paper" in status
    await telegram.inject(tg.private_message(chat, "/alerts"))
    await telegram.wait_for(lambda: _said(telegram, chat, "Last alerts"), "/alerts")
    alerts = next(m.text for m in telegram.sent_to(chat) if "Last alerts" in m.text)
    assert "buy BTCUSDT" in alerts

    await telegram.inject(tg.private_message(chat, "/resume"))
    await telegram.wait_for(lambda: _said(telegram, chat, "trade again?"), "the question")
    question = next(m for m in telegram.sent_to(chat) if "trade again?" in m.text)
    assert question.reply_markup is not None
    yes = question.reply_markup["inline_keyboard"][0][0]["callback_data"]
    await telegram.inject(tg.callback_query(chat, yes, question.message_id))
    await telegram.wait_for(
        lambda: any("on</b> again" in e.text for e in telegram.state.edits if e.chat_id == chat),
        "the resume confirmed",
    )
    resumed = await accepted(client, trader, "buy BTCUSDT 0.011")  # not a duplicate
    trail = await settled_trail(client, stack.cfg, trader, resumed, WAIT_S)
    assert [o["status"] for o in trail["orders"]] == ["filled"]


async def test_a_channel_post_trades_once_and_its_edit_and_noise_never_do(
    stack: Stack, notifier: ServiceProcess, telegram: TelegramApiStandIn, client: httpx.AsyncClient
) -> None:
    trader = await _trader(client, stack, "tg-signals")
    chat, channel = 6004, -1006004
    await _link(client, notifier, telegram, trader, chat)
    resp = await client.post(
        f"{notifier.url}/api/v1/notifications/signal-sources",
        json={"webhook_url": trader.webhook_url},
        headers=trader.auth,
    )
    assert resp.status_code == 201, resp.text
    assert trader.webhook_token not in resp.text
    await telegram.inject(tg.channel_post(channel, resp.json()["claim"], "VIP Signals"))
    await telegram.wait_for(lambda: _said(telegram, chat, "VIP Signals</b> now go"), "mapped")

    post = tg.channel_post(channel, "BUY BTCUSDT 0.01", "VIP Signals")
    await telegram.inject(post)

    async def one_order() -> bool:
        return len(await pipeline.exchange_orders(client, stack.cfg, trader, "BTCUSDT")) == 1

    await eventually(one_order, what="the post's order at the exchange", timeout_s=WAIT_S)
    edit = tg.edited_channel_post(channel, "BUY BTCUSDT 0.02", tg.message_id_of(post))
    await telegram.inject(edit)
    await telegram.wait_for(lambda: _said(telegram, chat, "was edited"), "the edit noticed")
    await telegram.inject(tg.channel_post(channel, "Good morning traders!", "VIP Signals"))
    await telegram.wait_for(
        lambda: _said(telegram, chat, "was not traded") or bool(telegram.state.unparsable),
        "the noise told",
    )
    assert telegram.state.unparsable == []
    orders = await pipeline.exchange_orders(client, stack.cfg, trader, "BTCUSDT")
    assert [(o["side"], o["origQty"]) for o in orders] == [("BUY", "0.01000000")]
    await telegram.inject(tg.edited_channel_post(channel, "BUY BTCUSDT 0.03", 1))
    await telegram.inject(tg.private_message(chat, "/help"))
    await telegram.wait_for(lambda: _said(telegram, chat, "Signal channels"), "/help")
    assert sum("was edited" in m.text for m in telegram.sent_to(chat)) == 1  # told once
    exposition = (await client.get(f"{notifier.url}/metrics")).text
    for outcome in ("forwarded", "refused"):
        assert f'sparky_notifier_signal_posts_total{{outcome="{outcome}"}}' in exposition
    assert 'sparky_notifier_telegram_updates_total{kind="edit"}' in exposition


async def test_a_chat_that_blocked_the_bot_makes_the_channel_dead(
    stack: Stack, notifier: ServiceProcess, telegram: TelegramApiStandIn, client: httpx.AsyncClient
) -> None:
    trader = await _trader(client, stack, "tg-blocked")
    await _link(client, notifier, telegram, trader, 6005)
    telegram.block(6005)
    intent = await accepted(client, trader, "buy BTCUSDT 0.01")
    await settled_trail(client, stack.cfg, trader, intent, WAIT_S)
    found: dict[str, Any] = {}

    async def dead() -> bool:
        resp = await client.get(
            f"{notifier.url}/api/v1/notifications/channels", headers=trader.auth
        )
        (channel,) = resp.json()["channels"]
        found.update(channel)
        return bool(channel["status"] == "dead")

    await eventually(dead, what="the channel marked dead", timeout_s=WAIT_S)
    assert found["kind"] == "telegram"
    assert found["dead_reason"] == "The bot was blocked in this chat."


async def test_in_a_group_only_its_administrators_messages_are_signals(
    stack: Stack, notifier: ServiceProcess, telegram: TelegramApiStandIn, client: httpx.AsyncClient
) -> None:
    trader = await _trader(client, stack, "tg-group")
    chat, group, admin, member = 6006, -1006006, 7001, 7002
    telegram.make_admin(group, admin)
    await _link(client, notifier, telegram, trader, chat)
    resp = await client.post(
        f"{notifier.url}/api/v1/notifications/signal-sources",
        json={"webhook_url": trader.webhook_url},
        headers=trader.auth,
    )
    assert resp.status_code == 201, resp.text
    claim = resp.json()["claim"]
    await telegram.inject(tg.group_message(group, chat, claim, "Signals group"))
    await telegram.wait_for(lambda: _said(telegram, chat, "Signals group</b> now go"), "mapped")

    await telegram.inject(tg.group_message(group, member, "BUY BTCUSDT 0.02"))
    await telegram.inject(tg.group_message(group, admin, "BUY BTCUSDT 0.01"))

    async def one_order() -> bool:
        return len(await pipeline.exchange_orders(client, stack.cfg, trader, "BTCUSDT")) >= 1

    await eventually(one_order, what="the administrator's order", timeout_s=WAIT_S)
    sources = await client.get(
        f"{notifier.url}/api/v1/notifications/signal-sources", headers=trader.auth
    )
    assert [(s["status"], s["chat_id"]) for s in sources.json()["signal_sources"]] == [
        ("active", group)
    ]
    orders = await pipeline.exchange_orders(client, stack.cfg, trader, "BTCUSDT")
    assert [o["origQty"] for o in orders] == ["0.01000000"]  # the member's message came first

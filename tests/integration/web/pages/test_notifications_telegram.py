"""The notifications page with Telegram on (the bot pointed at a Bot API stand-in): "Link
Telegram" shows the bot's one-time deep link, opening it in a chat links that chat (it appears
active on the page), and a chat that blocked the bot is shown dead, with the banner.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html import unescape

import httpx
import pytest
import pytest_asyncio

from libs.common import nats_access
from scripts.devstack import Stack
from services.web.dead_channels import DeadChannels
from tests.helpers import telegram_updates as tg
from tests.helpers.namespaces import new_namespace
from tests.helpers.polling import eventually
from tests.helpers.servers import ServerUrls
from tests.helpers.stack import PIPELINE, running_stack
from tests.helpers.telegram_api import BOT_USERNAME, TelegramApiStandIn
from tests.helpers.vault import VaultServer
from tests.helpers.web_pages import Signed, Web, csrf_of, post_form

pytestmark = pytest.mark.asyncio(loop_scope="module")

PAGE = "/account/notifications"
TOKEN = "5151:web-page-bot-token-not-a-secret"  # the stand-in's
WAIT_S = 30.0
CHAT = 424242
_LINK = re.compile(r'id="telegram-deep-link" href="([^"]+)"')


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def telegram() -> AsyncIterator[TelegramApiStandIn]:
    async with TelegramApiStandIn(TOKEN) as api:
        yield api


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(
    server_urls: ServerUrls,
    vault: VaultServer,
    tmp_path_factory: pytest.TempPathFactory,
    telegram: TelegramApiStandIn,
) -> AsyncIterator[Stack]:
    """The pages' stack with the notifier as a process and its bot on the stand-in."""
    notifier = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": telegram.base_url,
        "TELEGRAM_BOT_USERNAME": BOT_USERNAME,
        "SENDER_POLL_S": "0.1",
        "RETRY_INITIAL_S": "0.1",
    }
    async with running_stack(
        server_urls,
        vault,
        new_namespace(),
        tmp_path_factory.mktemp("stack"),
        (*PIPELINE, "notifier"),
        extra_env={"notifier": notifier},
        nats_users="notifier" in nats_access.SERVICES,
    ) as running:
        yield running
        log = running["notifier"].log_path.read_text(errors="replace")
        assert TOKEN not in log, "the bot token was logged"


async def _telegram_status(browser: httpx.AsyncClient) -> str | None:
    html = (await browser.get(PAGE)).text
    for match in re.finditer(r'<section class="card channel layer".*?</section>', html, re.S):
        section = unescape(match.group(0))
        if "<h3" in section and "Telegram" in section.split("</h3>")[0]:
            status = re.search(r'data-status="(\w+)"', section)
            return status.group(1) if status else None
    return None


async def test_link_telegram_gives_the_bots_deep_link_and_the_chat_that_opens_it_is_linked(
    ann: Signed, web: Web, telegram: TelegramApiStandIn
) -> None:
    html = (await ann.browser.get(PAGE)).text
    shown = await ann.browser.post(PAGE + "/telegram", data={"csrf_token": csrf_of(html)})
    assert shown.status_code == 200, shown.text[:300]
    found = _LINK.search(shown.text)
    assert found, "no deep link on the page"
    link = unescape(found.group(1))
    prefix = f"https://t.me/{BOT_USERNAME}?start="
    assert link.startswith(prefix)
    await telegram.inject(tg.private_message(CHAT, "/start " + link[len(prefix) :]))

    async def linked() -> bool:
        return await _telegram_status(ann.browser) == "active"

    await eventually(linked, what="the Telegram channel active", timeout_s=WAIT_S, interval_s=0.2)
    # The chat blocks the bot: the next message is refused with 403 and the channel is dead.
    web.app.state.dead_channels = DeadChannels(ttl_s=0)
    telegram.block(CHAT)
    page = (await ann.browser.get(PAGE)).text
    channel_id = re.search(r'data-channel-id="(\w+)" data-status="active"', page)
    assert channel_id
    tested = await post_form(ann.browser, PAGE, PAGE + "/test", {"channel_id": channel_id.group(1)})
    assert tested.status_code == 303

    async def dead() -> bool:
        return await _telegram_status(ann.browser) == "dead"

    await eventually(dead, what="the Telegram channel dead", timeout_s=WAIT_S, interval_s=0.2)
    assert "notification channel stopped working" in (await ann.browser.get("/alerts")).text

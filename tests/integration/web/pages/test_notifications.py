"""The notifications page against the real services and the notifier as a process: a channel
added on the page is verified with the code that reached a Discord stand-in or the mailbox, a
channel Discord refuses with 403 is shown dead (and the banner of every page says so), another
trader sees none of it, and a form without its CSRF token changes nothing.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from html import unescape

import httpx
import pytest
import pytest_asyncio

from libs.common import nats_access
from scripts.devstack import Stack
from scripts.mailbox import Mailbox
from services.web.dead_channels import DeadChannels
from tests.helpers.billing import served
from tests.helpers.namespaces import new_namespace
from tests.helpers.notifier import DiscordStandIn
from tests.helpers.polling import eventually
from tests.helpers.servers import ServerUrls
from tests.helpers.stack import PIPELINE, running_stack
from tests.helpers.vault import VaultServer
from tests.helpers.web_pages import Signed, Web, csrf_of, post_form

pytestmark = pytest.mark.asyncio(loop_scope="module")

PAGE = "/account/notifications"
SEND_WAIT_S = 30.0
_CODE = re.compile(r"\b(\d{6})\b")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def discord() -> AsyncIterator[tuple[DiscordStandIn, str]]:
    stand_in = DiscordStandIn()
    async with served(stand_in.app()) as url:
        yield stand_in, url


@pytest.fixture(scope="module")
def mailbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mailbox]:
    box = Mailbox(tmp_path_factory.mktemp("mail"))
    box.start()
    yield box
    box.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(
    server_urls: ServerUrls,
    vault: VaultServer,
    tmp_path_factory: pytest.TempPathFactory,
    discord: tuple[DiscordStandIn, str],
    mailbox: Mailbox,
) -> AsyncIterator[Stack]:
    """The pages' stack with the notifier as a process: Discord is the stand-in, mail goes
    to the mailbox, Telegram is off (no bot token), as `make run` has it."""
    notifier = {
        "DISCORD_WEBHOOK_PREFIX": f"{discord[1]}/api/webhooks/",
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
        smtp_port=mailbox.port,
        # Each service as its own NATS user once the notifier has one (libs.common.nats_access).
        nats_users="notifier" in nats_access.SERVICES,
    ) as running:
        yield running


@pytest.fixture
def fresh_banner(web: Web) -> None:
    """The banner asks the notifier on every page (its answer is otherwise kept 30 s)."""
    web.app.state.dead_channels = DeadChannels(ttl_s=0)


def _channel(html: str, target_part: str) -> tuple[str, str]:
    """(id, status) of the page's channel whose target contains ``target_part``."""
    for match in re.finditer(
        r'<section class="card channel layer" id="channel-(\w+)" data-channel-id="\w+" '
        r'data-status="(\w+)".*?</section>',
        html,
        re.S,
    ):
        if target_part in unescape(match.group(0)):
            return match.group(1), match.group(2)
    raise AssertionError(f"no channel for {target_part!r} on the page")


async def _status(browser: httpx.AsyncClient, target_part: str) -> str:
    return _channel((await browser.get(PAGE)).text, target_part)[1]


async def _until_status(browser: httpx.AsyncClient, target_part: str, status: str) -> None:
    await eventually(
        lambda: _status(browser, target_part),
        until=lambda now: now == status,
        what=f"{target_part} {status}",
        timeout_s=SEND_WAIT_S,
        interval_s=0.2,
    )


async def _discord_code(discord: DiscordStandIn, hook: str) -> str:
    await eventually(
        lambda: discord.to(hook), what="a verification message on Discord", timeout_s=SEND_WAIT_S
    )
    found = _CODE.search(discord.to(hook)[-1].content)
    assert found, discord.to(hook)[-1].content
    return found.group(1)


async def _add(browser: httpx.AsyncClient, kind: str, target: str) -> httpx.Response:
    return await post_form(browser, PAGE, PAGE, {"kind": kind, "target": target})


async def test_a_discord_channel_added_on_the_page_is_verified_with_the_code_it_received(
    ann: Signed, discord: tuple[DiscordStandIn, str]
) -> None:
    stand_in, url = discord
    added = await _add(ann.browser, "discord", f"{url}/api/webhooks/111/token-ann")
    assert added.status_code == 200, added.text[:500]
    channel_id, status = _channel(added.text, "…/ann")  # the masked URL
    assert status == "pending_verification"
    assert "token-ann" not in added.text  # the URL's token is never shown again
    wrong = await post_form(
        ann.browser, PAGE, PAGE + "/verify", {"channel_id": channel_id, "code": "000000"}
    )
    assert wrong.status_code == 422
    assert "Wrong code" in wrong.text
    code = await _discord_code(stand_in, "111")
    verified = await post_form(
        ann.browser, PAGE, PAGE + "/verify", {"channel_id": channel_id, "code": code}
    )
    assert verified.status_code == 303
    assert await _status(ann.browser, "…/ann") == "active"


async def test_an_email_channel_is_verified_with_the_code_from_the_mailbox(
    ann: Signed, mailbox: Mailbox
) -> None:
    address = "ann-alerts@example.test"
    added = await _add(ann.browser, "email", address)
    channel_id, _ = _channel(added.text, address)
    mail = await asyncio.to_thread(mailbox.wait_for, address, "", SEND_WAIT_S)
    found = _CODE.search(mail.text)
    assert found, mail.text
    await post_form(
        ann.browser, PAGE, PAGE + "/verify", {"channel_id": channel_id, "code": found.group(1)}
    )
    assert await _status(ann.browser, address) == "active"
    # Its events and the daily summary are saved from the checkboxes.
    saved = await post_form(
        ann.browser,
        PAGE,
        PAGE + "/change",
        {
            "channel_id": channel_id,
            "kind": "email",
            "event:order.failed": "1",
            "daily_summary": "1",
        },
    )
    assert saved.status_code == 303
    html = (await ann.browser.get(PAGE)).text
    section = re.search(rf'id="channel-{channel_id}".*?</section>', html, re.S)
    assert section
    checked = set(re.findall(r'name="event:([\w.]+)" value="1" checked', section.group(0)))
    assert checked == {"order.failed"}
    assert 'name="daily_summary" value="1" checked' in section.group(0)


async def test_a_channel_discord_refuses_with_403_is_shown_dead_on_every_page(
    ann: Signed, ben: Signed, discord: tuple[DiscordStandIn, str], fresh_banner: None
) -> None:
    stand_in, url = discord
    added = await _add(ann.browser, "discord", f"{url}/api/webhooks/222/token-old")
    channel_id, _ = _channel(added.text, "…/old")
    code = await _discord_code(stand_in, "222")
    await post_form(ann.browser, PAGE, PAGE + "/verify", {"channel_id": channel_id, "code": code})
    assert "stopped working" not in (await ann.browser.get("/positions")).text
    stand_in.faults["222"].append(403)  # the webhook was deleted in Discord
    tested = await post_form(ann.browser, PAGE, PAGE + "/test", {"channel_id": channel_id})
    assert tested.status_code == 303
    await _until_status(ann.browser, "…/old", "dead")
    page = (await ann.browser.get(PAGE)).text
    assert "Stopped:" in page
    banner = (await ann.browser.get("/positions")).text
    assert "notification channel stopped working" in banner
    assert 'href="/account/notifications"' in banner
    # Ben sees neither ann's channels nor her banner.
    assert "…/ann" not in (await ben.browser.get(PAGE)).text
    assert "stopped working" not in (await ben.browser.get("/positions")).text
    # Deleting it ends the banner.
    deleted = await post_form(ann.browser, PAGE, PAGE + "/delete", {"channel_id": channel_id})
    assert deleted.status_code == 303
    assert "stopped working" not in (await ann.browser.get("/positions")).text


async def test_a_form_without_its_csrf_token_adds_nothing_and_telegram_off_says_so(
    ben: Signed, discord: tuple[DiscordStandIn, str]
) -> None:
    refused = await ben.browser.post(
        PAGE, data={"kind": "discord", "target": f"{discord[1]}/api/webhooks/333/token-ben"}
    )
    assert refused.status_code == 403
    assert "…/ben" not in (await ben.browser.get(PAGE)).text
    html = (await ben.browser.get(PAGE)).text
    linked = await ben.browser.post(PAGE + "/telegram", data={"csrf_token": csrf_of(html)})
    assert linked.status_code in (404, 409), linked.text[:300]  # Telegram is off here
    assert "Telegram" in linked.text
    assert 'id="telegram-deep-link"' not in linked.text
    bad = await post_form(ben.browser, PAGE, PAGE, {"kind": "email", "target": "not an address"})
    assert bad.status_code == 422
    assert 'role="alert"' in bad.text

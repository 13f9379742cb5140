"""The browser tests' world: the whole stack as `make run` starts it (the web app included),
a local SMTP server that keeps the web app's mail, and a headless Debian Chromium.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser, async_playwright

from scripts.devstack import SERVICES, Stack
from scripts.mailbox import Mailbox
from tests.helpers.browser import CHROMIUM
from tests.helpers.namespaces import new_namespace
from tests.helpers.servers import ServerUrls
from tests.helpers.stack import running_stack
from tests.helpers.vault import VaultServer


@pytest.fixture(scope="module")
def mailbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mailbox]:
    """The SMTP server the web app sends through; each message a file the test reads."""
    box = Mailbox(tmp_path_factory.mktemp("mail"))
    box.start()
    yield box
    box.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def web_stack(
    server_urls: ServerUrls,
    vault: VaultServer,
    mailbox: Mailbox,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    """Every service `make run` starts, the web app with them, in a namespace of its own."""
    async with running_stack(
        server_urls,
        vault,
        new_namespace(),
        tmp_path_factory.mktemp("stack"),
        SERVICES,
        smtp_port=mailbox.port,
    ) as running:
        yield running


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium: Debian's, by its path (no browser download)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield launched
        await launched.close()


@pytest.fixture(scope="module")
def web_url(web_stack: Stack) -> str:
    return web_stack.cfg.url("web")

"""The signed-in pages' stack: every service as a process, the web app in-process in front of
it, and two traders (ann, ben) signed in, once per module.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from scripts.devstack import Stack
from tests.helpers import pipeline
from tests.helpers.namespaces import new_namespace
from tests.helpers.servers import ServerUrls
from tests.helpers.stack import running_stack
from tests.helpers.vault import VaultServer
from tests.helpers.web_pages import Signed, Web, running_web, signed_in_browser, web_settings_for


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(
    server_urls: ServerUrls, vault: VaultServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """Every service as a process, in a namespace of the module's own."""
    async with running_stack(
        server_urls, vault, new_namespace(), tmp_path_factory.mktemp("stack")
    ) as running:
        yield running


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def web(stack: Stack) -> AsyncIterator[Web]:
    async with running_web(web_settings_for(stack.cfg)) as (app, url):
        yield Web(app, url)


async def _first_webhook(client: httpx.AsyncClient, stack: Stack, trader: pipeline.Trader) -> str:
    found = await client.get(f"{stack.cfg.url('billing')}/api/v1/webhooks", headers=trader.auth)
    found.raise_for_status()
    webhook_id: str = found.json()[0]["webhook_id"]
    return webhook_id


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def traders(stack: Stack, web: Web) -> AsyncIterator[tuple[Signed, Signed]]:
    """Ann and Ben, each with a paper account ``main``, signed in to the web app."""
    async with httpx.AsyncClient(timeout=30) as client:
        ann, ben = await asyncio.gather(
            pipeline.provision(client, stack.cfg, "ann"),
            pipeline.provision(client, stack.cfg, "ben"),
        )
        hooks = [await _first_webhook(client, stack, t) for t in (ann, ben)]
    async with (
        signed_in_browser(web.app, web.url, ann, hooks[0]) as ann_browser,
        signed_in_browser(web.app, web.url, ben, hooks[1]) as ben_browser,
    ):
        yield Signed(ann, hooks[0], ann_browser), Signed(ben, hooks[1], ben_browser)


@pytest.fixture
def ann(traders: tuple[Signed, Signed]) -> Signed:
    return traders[0]


@pytest.fixture
def ben(traders: tuple[Signed, Signed]) -> Signed:
    return traders[1]

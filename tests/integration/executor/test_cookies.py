"""Tenants' ccxt clients share one connection pool, never a cookie.

An exchange on loopback sets a cookie on the first tenant's request; real clients built by
`new_client` on the process's shared HTTP plumbing send it with no later request, neither
another tenant's nor the first tenant's own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from libs.common.messages import AccountMode
from services.executor.adapters.clients import ClientSettings, new_client
from services.executor.adapters.credentials import Credentials
from services.executor.adapters.http import SharedHttp
from services.executor.adapters.venues import VENUES
from tests.helpers.ports import free_port

BINANCE = VENUES["binance"]


class CookieSettingExchange:
    """Answer Binance's server-time call; set a cookie on the first request; note every
    request's ``Cookie`` header.
    """

    def __init__(self) -> None:
        self.cookies_sent: list[str | None] = []

    async def time(self, request: web.Request) -> web.Response:
        first = not self.cookies_sent
        self.cookies_sent.append(request.headers.get("Cookie"))
        answer = web.json_response({"serverTime": 1_700_000_000_000})
        if first:
            answer.set_cookie("session", "first-tenants-session", path="/")
        return answer


@pytest.fixture
async def exchange() -> AsyncIterator[tuple[CookieSettingExchange, str]]:
    venue = CookieSettingExchange()
    app = web.Application()
    app.router.add_get("/api/v3/time", venue.time)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    # A host name, not an IP: aiohttp's default jar ignores cookies from bare IP addresses.
    await web.TCPSite(runner, "localhost", port).start()
    yield venue, f"http://localhost:{port}"
    await runner.cleanup()


async def test_a_cookie_one_tenants_exchange_sets_is_sent_by_no_client(
    exchange: tuple[CookieSettingExchange, str],
) -> None:
    venue, url = exchange
    http = SharedHttp()
    settings = ClientSettings(paper_url=url)
    first, second = (
        new_client(BINANCE, AccountMode.PAPER, settings, Credentials(f"key-{n}", "s"), http=http)
        for n in ("a", "b")
    )
    try:
        for client in (first, second, first):
            assert await client.fetch_time() == 1_700_000_000_000
    finally:
        for client in (first, second):
            await client.close()
        await http.close()
    assert first.session is second.session  # still one shared pool
    assert venue.cookies_sent == [None, None, None]

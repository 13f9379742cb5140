"""The shared request-weight budget, with real ccxt clients against a paper exchange that
enforces Binance's limits (a 2 s window, so a test waits seconds, not minutes).

Every client here is one tenant account's, all behind one address (127.0.0.1), as the
executor's clients are behind one egress address.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import ccxt
import httpx
import pytest

from libs.common.messages import AccountMode
from services.executor.adapters.budget import BudgetSettings, WeightBudget
from services.executor.adapters.clients import (
    ClientSettings,
    budget_name,
    new_budgets,
    new_client,
)
from services.executor.adapters.credentials import Credentials
from services.executor.adapters.venues import VENUES
from tests.helpers.paper import PaperExchangeProcess, paper_exchange

LIMIT, INTERVAL_S, BAN_S = 100, 2, 3
BINANCE = VENUES["binance"]
PAPER_LIMITS = {
    "weight_limit": str(LIMIT),
    "weight_interval_s": str(INTERVAL_S),
    "weight_ban_s": str(BAN_S),
    "weight_ban_strikes": "1",  # the second request while told to wait: banned
}


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PaperExchangeProcess]:
    """A paper exchange allowing each address 100 weight per 2 s, banning it on the second
    request sent while a 429 says to wait.
    """
    with paper_exchange(Path(tmp_path_factory.mktemp("limited")), PAPER_LIMITS) as process:
        yield process


@pytest.fixture
async def fresh_window() -> None:
    """Start in the first half of a weight window, with the last one's count gone."""
    # A sleep, not a poll: the paper exchange is another process, its windows on the real clock.
    now = time.time()
    await asyncio.sleep(INTERVAL_S - now % INTERVAL_S + 0.05)


def _settings(paper: PaperExchangeProcess, margin: float = 0.2) -> ClientSettings:
    return ClientSettings(
        paper.base_url,
        budget=BudgetSettings(margin=margin, max_wait_s=15),
        paper_weight=(LIMIT, INTERVAL_S),
    )


class Metered:
    """Tenant clients of one process sharing its budgets."""

    def __init__(self, paper: PaperExchangeProcess, settings: ClientSettings) -> None:
        self.paper, self.settings = paper, settings
        self.budgets = new_budgets(settings)
        self.clients: list[Any] = []

    @property
    def budget(self) -> WeightBudget:
        return self.budgets.of(budget_name(BINANCE, AccountMode.PAPER), LIMIT, INTERVAL_S)

    async def client(self) -> Any:
        account = await self.paper.create_account({"USDT": "1000"})
        keys = Credentials(api_key=account.api_key, secret=account.secret)
        client = new_client(BINANCE, AccountMode.PAPER, self.settings, keys, budgets=self.budgets)
        self.clients.append(client)
        return client

    async def close(self) -> None:
        for client in self.clients:
            await client.close()


@pytest.fixture
async def metered(limited: PaperExchangeProcess) -> AsyncIterator[Metered]:
    clients = Metered(limited, _settings(limited))
    yield clients
    await clients.close()


async def _exhaust(paper: PaperExchangeProcess, refusals: int = 1) -> httpx.Response:
    """Send unmetered requests until the exchange has refused ``refusals`` of them."""
    async with httpx.AsyncClient(base_url=paper.base_url) as http:
        for _ in range(LIMIT):
            answer = await http.get("/api/v3/exchangeInfo")  # weight 20
            refusals -= answer.status_code != 200
            if not refusals:
                return answer
    raise AssertionError("the exchange never refused")


async def test_clients_of_many_accounts_queue_for_the_addresss_weight_instead_of_a_429(
    metered: Metered, fresh_window: None
) -> None:
    clients = [await metered.client() for _ in range(4)]
    await clients[0].fetch_time()  # markets are not needed for a balance
    started = time.monotonic()
    # 12 balance reads of weight 20 = 240: three windows' worth of an 80-weight share.
    results = await asyncio.gather(*(c.fetch_balance() for c in clients for _ in range(3)))
    elapsed = time.monotonic() - started
    assert [r["USDT"]["free"] for r in results] == [1000.0] * 12
    assert elapsed >= INTERVAL_S  # queued into later windows, not refused
    assert metered.budget.reported > 0  # the exchange's count was read


async def test_the_same_load_without_the_shared_budget_gets_429(
    limited: PaperExchangeProcess, fresh_window: None
) -> None:
    accounts = [await limited.create_account({"USDT": "1000"}) for _ in range(4)]
    clients = [limited.client(a) for a in accounts]  # ccxt's own per-client limiter only
    try:
        results = await asyncio.gather(
            *(c.fetch_balance() for c in clients for _ in range(3)), return_exceptions=True
        )
    finally:
        for client in clients:
            await client.close()
    assert any(isinstance(r, ccxt.DDoSProtection) for r in results)
    # Let the ban this earned end before the next test; polling would send the very requests
    # during a ban that the exchange punishes.
    await asyncio.sleep(BAN_S)


async def test_the_exchanges_used_weight_header_corrects_the_estimate(
    metered: Metered, fresh_window: None
) -> None:
    client = await metered.client()
    await client.load_markets()  # exchangeInfo: 20
    async with httpx.AsyncClient(base_url=metered.paper.base_url) as http:
        await http.get("/api/v3/exchangeInfo")  # 20 the process did not count
    await client.fetch_balance()  # account: 20
    assert metered.budget.reported == 60
    assert metered.budget.used == 60  # its own count was 40


async def test_a_429_is_honoured_for_its_retry_after(metered: Metered, fresh_window: None) -> None:
    client = await metered.client()
    refused = await _exhaust(metered.paper)
    assert refused.status_code == 429
    with pytest.raises(ccxt.DDoSProtection, match="-1003"):
        await client.fetch_balance()  # the process did not know: the exchange's 429 tells it
    # One more request before Retry-After would be a ban (418): the budget waits it out.
    balance = await client.fetch_balance()
    assert balance["USDT"]["free"] == 1000.0
    assert metered.budget.reported == 40  # markets and balance, in the next window


async def test_a_ban_stops_every_call_until_it_ends(metered: Metered, fresh_window: None) -> None:
    client = await metered.client()
    banned = await _exhaust(metered.paper, refusals=3)  # 429, then two more: banned
    assert banned.status_code == 418
    with pytest.raises(ccxt.DDoSProtection, match="banned"):
        await client.fetch_balance()
    started = time.monotonic()
    balance = await client.fetch_balance()  # a call during the ban would be refused again
    assert balance["USDT"]["free"] == 1000.0
    assert time.monotonic() - started >= BAN_S - 1

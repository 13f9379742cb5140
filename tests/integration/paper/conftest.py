"""Fixtures of the paper exchange's tests: one exchange process per session, an account each.

Tests share the process but never an account; each test's faults and pinned prices are
cleared after it. Tests that kill the process start their own with `paper_exchange`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.helpers.paper import PaperAccount, PaperExchangeProcess, paper_exchange

STARTING_BALANCES = {"USDT": "10000", "BTC": "1", "ETH": "10"}


@pytest.fixture(scope="session")
def paper_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PaperExchangeProcess]:
    """A paper exchange process for the whole session (fixed prices: BTCUSDT at 60000)."""
    with paper_exchange(tmp_path_factory.mktemp("paper")) as process:
        yield process


@pytest.fixture
async def paper(paper_server: PaperExchangeProcess) -> AsyncIterator[PaperExchangeProcess]:
    """The session's paper exchange; the test's faults and pinned prices go afterwards."""
    yield paper_server
    await paper_server.clear_faults()
    await paper_server.clear_prices()


@pytest.fixture
async def account(paper: PaperExchangeProcess) -> PaperAccount:
    """A fresh account holding 10,000 USDT, 1 BTC and 10 ETH."""
    return await paper.create_account(STARTING_BALANCES, label="test")


@pytest.fixture
async def exchange(paper: PaperExchangeProcess, account: PaperAccount) -> AsyncIterator[Any]:
    """ccxt's async binance client on the test's account, markets loaded."""
    client = paper.client(account)
    await client.load_markets()
    yield client
    await client.close()

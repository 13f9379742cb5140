"""The paper exchange's state survives SIGKILL, and concurrent orders never lose an update."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt
import pytest

from tests.helpers.paper import PaperAccount, PaperExchangeProcess, paper_exchange

BTC = "BTC/USDT"


async def _client(paper: PaperExchangeProcess, account: PaperAccount, **config: Any) -> Any:
    client = paper.client(account, **config)
    await client.load_markets()
    return client


async def _place_before_crash(paper: PaperExchangeProcess, account: PaperAccount) -> list[Any]:
    client = await _client(paper, account)
    try:
        filled = await client.create_order(
            BTC, "market", "buy", 0.01, None, {"clientOrderId": "k-1"}
        )
        resting = await client.create_order(
            BTC, "limit", "buy", 0.01, 50000, {"clientOrderId": "k-2"}
        )
        await paper.set_prices({"ETHUSDT": "3100"})
    finally:
        await client.close()
    return [filled, resting]


async def test_orders_balances_and_prices_survive_a_sigkill(tmp_path: Path) -> None:
    with paper_exchange(tmp_path) as paper:
        account = await paper.create_account({"USDT": "10000", "BTC": "1"})
        filled, resting = await _place_before_crash(paper, account)
        before = await paper.balances(account.account_id)
        paper.kill()
        paper.start()
        assert await paper.balances(account.account_id) == before
        client = await _client(paper, account)
        try:
            found = await client.fetch_order(None, BTC, {"origClientOrderId": "k-1"})
            assert (found["id"], found["status"]) == (filled["id"], "closed")
            [trade] = await client.fetch_my_trades(BTC)
            assert trade["id"] == filled["trades"][0]["id"]
            assert (await client.fetch_ticker("ETH/USDT"))["last"] == 3100.0
            with pytest.raises(ccxt.InvalidOrder, match="Duplicate order sent"):
                await client.create_order(
                    BTC, "market", "buy", 0.01, None, {"clientOrderId": "k-1"}
                )
            after = await client.create_order(BTC, "market", "buy", 0.01)
            assert int(after["id"]) > int(resting["id"])
            await paper.set_prices({"BTCUSDT": "49000"})
            assert (await client.fetch_order(resting["id"], BTC))["status"] == "closed"
        finally:
            await client.close()


async def test_concurrent_orders_of_one_account_never_spend_more_than_it_has(
    paper: PaperExchangeProcess,
) -> None:
    account = await paper.create_account({"USDT": "6000"})  # ten buys of 600 USDT
    clients = [await _client(paper, account, enableRateLimit=False) for _ in range(4)]

    async def buy(i: int) -> str:
        try:
            await clients[i % 4].create_order(BTC, "market", "buy", 0.01)
        except ccxt.InsufficientFunds:
            return "refused"
        return "filled"

    try:
        outcomes = await asyncio.gather(*(buy(i) for i in range(20)))
    finally:
        await asyncio.gather(*(client.close() for client in clients))
    assert outcomes.count("filled") == 10
    assert outcomes.count("refused") == 10
    assert await paper.balances(account.account_id) == {
        "USDT": (Decimal(0), Decimal(0)),
        "BTC": (Decimal("0.0999"), Decimal(0)),  # 10 x (0.01 - 0.1 % fee)
    }

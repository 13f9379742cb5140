"""Injected faults reach ccxt as the network and exchange errors a client must survive."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt
import pytest

from tests.helpers.paper import PaperAccount, PaperExchangeProcess

BTC = "BTC/USDT"
ORDER = {"method": "POST", "path": "/api/v3/order"}


async def _client(paper: PaperExchangeProcess, account: PaperAccount, **config: Any) -> Any:
    client = paper.client(account, **config)
    await client.load_markets()
    return client


async def test_a_429_raises_ccxts_rate_limit_class_then_requests_pass_again(
    exchange: Any, paper: PaperExchangeProcess, account: PaperAccount
) -> None:
    await paper.add_fault("rate_limit", count=1, account_id=account.account_id)
    # ccxt's binance raises DDoSProtection (a NetworkError) for every HTTP 418 or 429.
    with pytest.raises(ccxt.DDoSProtection, match="-1003"):
        await exchange.fetch_balance()
    assert (await exchange.fetch_balance())["USDT"]["free"] == 10000.0


async def test_a_503_fails_an_order_without_placing_it(
    exchange: Any, paper: PaperExchangeProcess, account: PaperAccount
) -> None:
    await paper.add_fault("error", count=1, account_id=account.account_id, **ORDER)
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await exchange.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "e-1"})
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.fetch_order(None, BTC, {"origClientOrderId": "e-1"})
    assert (await paper.balances(account.account_id))["USDT"] == (Decimal(10000), Decimal(0))


async def test_a_504_is_a_request_timeout(
    exchange: Any, paper: PaperExchangeProcess, account: PaperAccount
) -> None:
    await paper.add_fault("error", count=1, status=504, account_id=account.account_id)
    with pytest.raises(ccxt.RequestTimeout):
        await exchange.fetch_open_orders(BTC)


async def test_a_timeout_after_acceptance_leaves_the_order_to_be_found_by_client_id(
    paper: PaperExchangeProcess, account: PaperAccount
) -> None:
    client = await _client(paper, account, timeout=1000)
    try:
        await paper.add_fault(
            "accept_then_timeout", count=1, delay_ms=3000, account_id=account.account_id
        )
        with pytest.raises(ccxt.RequestTimeout):
            await client.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "t-1"})
        found = await client.fetch_order(None, BTC, {"origClientOrderId": "t-1"})
        trades = await client.fetch_my_trades(BTC, params={"orderId": found["id"]})
    finally:
        await client.close()
    assert found["status"] == "closed"
    assert found["filled"] == 0.01
    assert [t["amount"] for t in trades] == [0.01]
    assert (await paper.balances(account.account_id))["USDT"][0] == Decimal(9400)


async def test_an_error_after_acceptance_leaves_the_order_placed_and_its_id_taken(
    exchange: Any, paper: PaperExchangeProcess, account: PaperAccount
) -> None:
    await paper.add_fault("accept_then_error", count=1, account_id=account.account_id)
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await exchange.create_order(BTC, "limit", "buy", 0.01, 50000, {"clientOrderId": "a-1"})
    found = await exchange.fetch_order(None, BTC, {"origClientOrderId": "a-1"})
    assert found["status"] == "open"
    with pytest.raises(ccxt.InvalidOrder, match="Duplicate order sent"):
        await exchange.create_order(BTC, "limit", "buy", 0.01, 50000, {"clientOrderId": "a-1"})
    assert len(await exchange.fetch_open_orders(BTC)) == 1


async def test_added_latency_beyond_the_clients_timeout_times_it_out(
    paper: PaperExchangeProcess, account: PaperAccount
) -> None:
    client = await _client(paper, account, timeout=500)
    try:
        await paper.add_fault("latency", count=1, latency_ms=2000, account_id=account.account_id)
        with pytest.raises(ccxt.RequestTimeout):
            await client.fetch_balance()
        assert (await client.fetch_balance())["USDT"]["free"] == 10000.0
    finally:
        await client.close()


async def test_a_fault_for_one_account_spares_the_others(
    exchange: Any, paper: PaperExchangeProcess, account: PaperAccount
) -> None:
    other = await paper.create_account({"USDT": "100"})
    client = await _client(paper, other)
    try:
        await paper.add_fault("error", account_id=account.account_id)  # until cleared
        for _ in range(3):
            with pytest.raises(ccxt.ExchangeNotAvailable):
                await exchange.fetch_balance()
            assert (await client.fetch_balance())["USDT"]["free"] == 100.0
        await paper.clear_faults()
        assert (await exchange.fetch_balance())["USDT"]["free"] == 10000.0
    finally:
        await client.close()


async def test_a_global_fault_hits_the_next_requests_of_anyone(
    exchange: Any, paper: PaperExchangeProcess
) -> None:
    await paper.add_fault("error", count=2, path="/api/v3/account")
    for _ in range(2):
        with pytest.raises(ccxt.ExchangeNotAvailable):
            await exchange.fetch_balance()
    assert (await exchange.fetch_balance())["USDT"]["free"] == 10000.0

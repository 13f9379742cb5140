"""Refusals come in Binance's shape, so ccxt raises the exception class it raises on Binance."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt
import pytest

from tests.helpers.paper import PaperAccount, PaperExchangeProcess

BTC = "BTC/USDT"


async def _with_client(paper: PaperExchangeProcess, account: PaperAccount, **config: Any) -> Any:
    client = paper.client(account, **config)
    await client.load_markets()
    return client


async def test_an_unknown_api_key_is_an_authentication_error(
    paper: PaperExchangeProcess, account: PaperAccount
) -> None:
    stranger = PaperAccount(account.account_id, "A" * 64, account.secret)
    client = await _with_client(paper, stranger)
    try:
        with pytest.raises(ccxt.AuthenticationError, match="-2015"):
            await client.fetch_balance()
    finally:
        await client.close()


async def test_a_wrong_secret_is_an_authentication_error(
    paper: PaperExchangeProcess, account: PaperAccount
) -> None:
    forged = PaperAccount(account.account_id, account.api_key, "B" * 64)
    client = await _with_client(paper, forged)
    try:
        with pytest.raises(ccxt.AuthenticationError, match="Signature for this request"):
            await client.create_order(BTC, "market", "buy", 0.01)
    finally:
        await client.close()
    assert (await paper.balances(account.account_id))["USDT"] == (Decimal(10000), Decimal(0))


async def test_a_disabled_account_is_refused_at_once(
    exchange: Any, paper: PaperExchangeProcess, account: PaperAccount
) -> None:
    assert (await exchange.fetch_balance())["USDT"]["free"] == 10000.0
    await paper.delete_account(account.account_id)
    # ccxt quirk: once a client has authenticated, it reads -2015 as a temporary ban.
    with pytest.raises(ccxt.DDoSProtection, match="-2015"):
        await exchange.fetch_balance()
    fresh = await _with_client(paper, account)
    try:
        with pytest.raises(ccxt.AuthenticationError, match="-2015"):
            await fresh.fetch_balance()
    finally:
        await fresh.close()


async def test_a_request_signed_too_long_ago_is_refused(
    paper: PaperExchangeProcess, account: PaperAccount
) -> None:
    # ccxt subtracts timeDifference from its clock: the request looks two minutes old.
    client = await _with_client(paper, account, options={"timeDifference": 120_000})
    try:
        with pytest.raises(ccxt.InvalidNonce, match="recvWindow"):
            await client.fetch_balance()
    finally:
        await client.close()


async def test_an_unlisted_symbol_is_a_bad_symbol(exchange: Any) -> None:
    with pytest.raises(ccxt.BadSymbol, match="Invalid symbol"):
        await exchange.private_post_order(
            {"symbol": "NOPEUSDT", "side": "BUY", "type": "MARKET", "quantity": "1"}
        )


async def test_more_than_the_balance_is_insufficient_funds(
    exchange: Any, paper: PaperExchangeProcess, account: PaperAccount
) -> None:
    with pytest.raises(ccxt.InsufficientFunds):
        await exchange.create_order(BTC, "market", "buy", 1)  # 60,000 USDT
    with pytest.raises(ccxt.InsufficientFunds):
        await exchange.create_order(BTC, "limit", "sell", 2, 70000)
    assert await exchange.fetch_open_orders(BTC) == []
    assert (await paper.balances(account.account_id))["BTC"] == (Decimal(1), Decimal(0))


async def test_an_amount_off_the_lot_step_is_an_invalid_order(exchange: Any) -> None:
    with pytest.raises(ccxt.InvalidOrder, match="LOT_SIZE"):
        await exchange.private_post_order(
            {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.000011"}
        )


async def test_a_price_off_the_tick_is_an_invalid_order(exchange: Any) -> None:
    with pytest.raises(ccxt.InvalidOrder, match="PRICE_FILTER"):
        await exchange.private_post_order(
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": "0.01",
                "price": "50000.001",
            }
        )


async def test_an_order_below_the_minimum_cost_is_refused_as_binance_does(exchange: Any) -> None:
    # Binance answers -1013 "Filter failure: NOTIONAL"; ccxt maps -1013 to BadRequest.
    with pytest.raises(ccxt.BadRequest, match="NOTIONAL"):
        await exchange.create_order(BTC, "market", "buy", 0.00005)  # 3 USDT < 5


async def test_a_reused_client_order_id_is_refused_and_places_nothing(
    exchange: Any, paper: PaperExchangeProcess, account: PaperAccount
) -> None:
    first = await exchange.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "d-1"})
    with pytest.raises(ccxt.InvalidOrder, match="Duplicate order sent"):
        await exchange.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "d-1"})
    trades = await exchange.fetch_my_trades(BTC)
    assert [t["order"] for t in trades] == [first["id"]]
    assert (await paper.balances(account.account_id))["USDT"][0] == Decimal(9400)


async def test_an_order_the_account_does_not_have_is_not_found(exchange: Any) -> None:
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.fetch_order("999999", BTC)
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.fetch_order(None, BTC, {"origClientOrderId": "never-sent"})
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.cancel_order("999999", BTC)


async def test_another_accounts_order_is_not_found(
    exchange: Any, paper: PaperExchangeProcess
) -> None:
    other = await paper.create_account({"USDT": "1000"})
    client = await _with_client(paper, other)
    try:
        theirs = await client.create_order(
            BTC, "limit", "buy", 0.001, 50000, {"clientOrderId": "x"}
        )
    finally:
        await client.close()
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.fetch_order(theirs["id"], BTC)
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.cancel_order(None, BTC, {"origClientOrderId": "x"})


async def test_canceling_a_filled_order_is_not_found(exchange: Any) -> None:
    order = await exchange.create_order(BTC, "market", "buy", 0.01)
    with pytest.raises(ccxt.OrderNotFound, match="Unknown order sent"):
        await exchange.cancel_order(order["id"], BTC)


async def test_a_malformed_parameter_is_a_bad_request(exchange: Any) -> None:
    with pytest.raises(ccxt.BadRequest, match="quantity"):
        await exchange.private_post_order(
            {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "-1"}
        )
    with pytest.raises(ccxt.BadRequest, match="price"):
        await exchange.private_post_order(
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": "0.01",
            }
        )


async def test_a_resent_order_is_called_a_duplicate_even_when_it_could_no_longer_be_paid(
    paper: PaperExchangeProcess,
) -> None:
    account = await paper.create_account({"USDT": "600"})
    client = await _with_client(paper, account)
    try:
        await client.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "once"})
        with pytest.raises(ccxt.InvalidOrder, match="Duplicate order sent"):
            await client.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "once"})
    finally:
        await client.close()

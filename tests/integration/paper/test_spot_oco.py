"""Spot OCO order lists through ccxt's implicit ``privatePostOrderListOco``, as the executor
places a take-profit and a stop-loss after a buy fills."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt
import pytest

from tests.helpers.paper import PaperAccount, PaperExchangeProcess, paper_exchange
from tests.helpers.polling import eventually

BTC = "BTC/USDT"


def _oco(prefix: str, **changes: str) -> dict[str, str]:
    """A SELL OCO of 0.01 BTC at 60,000: take profit 62,000 (LIMIT_MAKER), stop 59,000."""
    return {
        "symbol": "BTCUSDT",
        "side": "SELL",
        "quantity": "0.01",
        "aboveType": "LIMIT_MAKER",
        "abovePrice": "62000",
        "belowType": "STOP_LOSS",
        "belowStopPrice": "59000",
        "listClientOrderId": f"{prefix}-list",
        "aboveClientOrderId": f"{prefix}-tp",
        "belowClientOrderId": f"{prefix}-sl",
        **changes,
    }


async def _legs(exchange: Any, prefix: str) -> tuple[dict[str, Any], dict[str, Any]]:
    take_profit = await exchange.fetch_order(None, BTC, {"origClientOrderId": f"{prefix}-tp"})
    stop_loss = await exchange.fetch_order(None, BTC, {"origClientOrderId": f"{prefix}-sl"})
    return take_profit, stop_loss


async def test_an_oco_answers_like_binance_and_locks_the_base_once(
    exchange: Any, paper: PaperExchangeProcess, account: PaperAccount
) -> None:
    placed = await exchange.privatePostOrderListOco(_oco("a"))
    assert (placed["contingencyType"], placed["listStatusType"], placed["listOrderStatus"]) == (
        "OCO",
        "EXEC_STARTED",
        "EXECUTING",
    )
    assert placed["listClientOrderId"] == "a-list"
    below, above = placed["orderReports"]
    assert [o["clientOrderId"] for o in placed["orders"]] == ["a-sl", "a-tp"]
    assert (below["type"], below["stopPrice"], below["status"]) == (
        "STOP_LOSS",
        "59000.00000000",
        "NEW",
    )
    assert (above["type"], above["price"]) == ("LIMIT_MAKER", "62000.00000000")
    assert below["orderListId"] == above["orderListId"] == placed["orderListId"]
    assert (await paper.balances(account.account_id))["BTC"] == (Decimal("0.99"), Decimal("0.01"))
    take_profit, stop_loss = await _legs(exchange, "a")
    assert (take_profit["status"], take_profit["type"], take_profit["price"]) == (
        "open",
        "limit",
        62000.0,
    )
    assert take_profit["postOnly"] is True
    assert take_profit["info"]["orderListId"] == placed["orderListId"]
    assert (stop_loss["status"], stop_loss["type"], stop_loss["triggerPrice"]) == (
        "open",
        "market",
        59000.0,
    )
    assert (below["workingTime"], below["fills"]) == (-1, [])
    assert {o["clientOrderId"] for o in await exchange.fetch_open_orders(BTC)} == {"a-tp", "a-sl"}
    found = await exchange.privateGetOrderList({"origClientOrderId": "a-list"})
    assert found["orderListId"] == placed["orderListId"]
    assert [o["orderId"] for o in found["orders"]] == [below["orderId"], above["orderId"]]


async def test_the_stop_leg_fires_when_the_price_falls_and_the_take_profit_expires(
    exchange: Any, paper: PaperExchangeProcess, account: PaperAccount
) -> None:
    placed = await exchange.privatePostOrderListOco(_oco("b"))
    assert await paper.set_prices({"BTCUSDT": "58800"}) >= 1
    take_profit, stop_loss = await _legs(exchange, "b")
    assert (stop_loss["status"], stop_loss["filled"], stop_loss["average"]) == (
        "closed",
        0.01,
        58800.0,
    )
    assert take_profit["status"] == "expired"
    [trade] = await exchange.fetch_my_trades(BTC)
    assert trade["order"] == stop_loss["id"]
    assert await paper.balances(account.account_id) == {
        "USDT": (Decimal(10000) + Decimal("588") - Decimal("0.588"), Decimal(0)),
        "BTC": (Decimal("0.99"), Decimal(0)),
        "ETH": (Decimal(10), Decimal(0)),
    }
    done = await exchange.privateGetOrderList({"orderListId": placed["orderListId"]})
    assert (done["listStatusType"], done["listOrderStatus"]) == ("ALL_DONE", "ALL_DONE")
    assert await exchange.fetch_open_orders(BTC) == []


async def test_the_take_profit_leg_fills_as_a_maker_and_the_stop_expires(
    exchange: Any, paper: PaperExchangeProcess
) -> None:
    await exchange.privatePostOrderListOco(_oco("c"))
    await paper.set_prices({"BTCUSDT": "62000"})
    take_profit, stop_loss = await _legs(exchange, "c")
    assert (take_profit["status"], take_profit["average"]) == ("closed", 62000.0)
    assert stop_loss["status"] == "expired"
    [trade] = await exchange.fetch_my_trades(BTC)
    assert (trade["takerOrMaker"], trade["fee"]["cost"]) == ("maker", 0.62)
    assert (await exchange.fetch_balance())["BTC"] == {"free": 0.99, "used": 0.0, "total": 0.99}


async def test_the_background_matcher_fires_the_stop_leg_without_being_asked(
    exchange: Any, paper: PaperExchangeProcess
) -> None:
    await exchange.privatePostOrderListOco(_oco("d"))
    await paper.set_prices({"BTCUSDT": "58000"}, match=False)

    async def stop_leg_status() -> str:
        _, stop_loss = await _legs(exchange, "d")
        return str(stop_loss["status"])

    status = await eventually(
        stop_leg_status, until=lambda s: s != "open", what="the stop leg no longer open"
    )
    assert status == "closed"


async def test_canceling_one_leg_cancels_the_whole_list_and_releases_the_lock(
    exchange: Any, paper: PaperExchangeProcess, account: PaperAccount
) -> None:
    placed = await exchange.privatePostOrderListOco(_oco("e"))
    take_profit, _ = await _legs(exchange, "e")
    canceled = await exchange.cancel_order(take_profit["id"], BTC)
    assert (canceled["status"], canceled["info"]["orderListId"]) == (
        "canceled",
        placed["orderListId"],
    )
    take_profit, stop_loss = await _legs(exchange, "e")
    assert (take_profit["status"], stop_loss["status"]) == ("canceled", "canceled")
    done = await exchange.privateGetOrderList({"orderListId": placed["orderListId"]})
    assert done["listOrderStatus"] == "ALL_DONE"
    assert (await paper.balances(account.account_id))["BTC"] == (Decimal(1), Decimal(0))
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.cancel_order(stop_loss["id"], BTC)


async def test_an_order_list_is_canceled_whole_by_its_client_id(
    exchange: Any, paper: PaperExchangeProcess, account: PaperAccount
) -> None:
    await exchange.privatePostOrderListOco(
        _oco(
            "f",
            belowType="STOP_LOSS_LIMIT",
            belowPrice="58900",
            belowTimeInForce="GTC",
        )
    )
    assert [o["listClientOrderId"] for o in await exchange.privateGetOpenOrderList()] == ["f-list"]
    canceled = await exchange.privateDeleteOrderList(
        {"symbol": "BTCUSDT", "listClientOrderId": "f-list"}
    )
    assert canceled["listOrderStatus"] == "ALL_DONE"
    assert [r["status"] for r in canceled["orderReports"]] == ["CANCELED", "CANCELED"]
    assert [r["origClientOrderId"] for r in canceled["orderReports"]] == ["f-sl", "f-tp"]
    assert (await paper.balances(account.account_id))["BTC"] == (Decimal(1), Decimal(0))
    assert await exchange.privateGetOpenOrderList() == []


@pytest.mark.parametrize(
    ("changes", "error", "words"),
    [
        ({"abovePrice": "59500"}, ccxt.InvalidOrder, "relationship of the prices"),
        ({"belowStopPrice": "60000"}, ccxt.InvalidOrder, "relationship of the prices"),
        ({"quantity": "2"}, ccxt.InsufficientFunds, "insufficient balance"),
        ({"abovePrice": "62000.001"}, ccxt.InvalidOrder, "PRICE_FILTER"),
        ({"aboveType": "LIMIT"}, ccxt.ExchangeError, "Order type not supported in OCO"),
        ({"belowType": "TAKE_PROFIT"}, ccxt.ExchangeError, "take profit order in a sell OCO"),
    ],
)
async def test_an_oco_binance_would_refuse_is_refused_and_locks_nothing(  # noqa: PLR0917 - fixtures
    exchange: Any,
    paper: PaperExchangeProcess,
    account: PaperAccount,
    changes: dict[str, str],
    error: type[Exception],
    words: str,
) -> None:
    with pytest.raises(error, match=words):
        await exchange.privatePostOrderListOco(_oco("g", **changes))
    assert (await paper.balances(account.account_id))["BTC"] == (Decimal(1), Decimal(0))
    assert await exchange.fetch_open_orders(BTC) == []


async def test_client_ids_of_an_oco_are_unique_like_any_order(exchange: Any) -> None:
    await exchange.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "h-tp"})
    with pytest.raises(ccxt.InvalidOrder, match="Duplicate order sent"):
        await exchange.privatePostOrderListOco(_oco("h"))
    await exchange.privatePostOrderListOco(_oco("h", aboveClientOrderId="h-tp2"))
    with pytest.raises(ccxt.InvalidOrder, match="Duplicate order sent"):
        await exchange.privatePostOrderListOco(
            _oco("h", aboveClientOrderId="h-tp3", belowClientOrderId="h-sl3")
        )


async def test_an_unknown_order_list_is_not_found(exchange: Any) -> None:
    with pytest.raises(ccxt.ExchangeError, match="Order list does not exist"):
        await exchange.privateGetOrderList({"orderListId": "999999"})
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.privateDeleteOrderList({"symbol": "BTCUSDT", "orderListId": "999999"})


async def test_ccxt_names_the_legs_itself_when_the_caller_does_not(exchange: Any) -> None:
    params = {k: v for k, v in _oco("i").items() if "ClientOrderId" not in k}
    placed = await exchange.privatePostOrderListOco(params)
    assert all(o["clientOrderId"].startswith("x-TKT5PX2F") for o in placed["orders"])
    assert placed["listClientOrderId"].startswith("x-TKT5PX2F")


async def test_an_oco_survives_a_sigkill_and_still_fires(tmp_path: Path) -> None:
    with paper_exchange(tmp_path) as paper:
        account = await paper.create_account({"USDT": "10000", "BTC": "1"})
        client = paper.client(account)
        try:
            await client.load_markets()
            placed = await client.privatePostOrderListOco(_oco("k"))
        finally:
            await client.close()
        paper.kill()
        paper.start()
        assert (await paper.balances(account.account_id))["BTC"] == (
            Decimal("0.99"),
            Decimal("0.01"),
        )
        client = paper.client(account)
        try:
            found = await client.privateGetOrderList({"orderListId": placed["orderListId"]})
            assert found["listOrderStatus"] == "EXECUTING"
            assert len(await client.fetch_open_orders(BTC)) == 2
            await paper.set_prices({"BTCUSDT": "58000"})
            take_profit, stop_loss = await _legs(client, "k")
            assert (take_profit["status"], stop_loss["status"]) == ("expired", "closed")
        finally:
            await client.close()
        assert (await paper.balances(account.account_id))["BTC"] == (Decimal("0.99"), Decimal(0))

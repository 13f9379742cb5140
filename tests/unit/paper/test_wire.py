"""Malformed order parameters get Binance's code and name the parameter."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.paper import accounts, wire
from services.paper.errors import BinanceError
from services.paper.models import OrderRef, OrderType, RespType, Side, TimeInForce

MARKET = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"}
LIMIT = {**MARKET, "type": "LIMIT", "price": "50000", "timeInForce": "GTC"}


def test_a_market_order_is_read_with_binances_defaults() -> None:
    order = wire.parse_new_order({**MARKET, "newClientOrderId": "x-TKT5PX2F:abc/1"})
    assert (order.side, order.type, order.quantity) == (Side.BUY, OrderType.MARKET, Decimal("0.01"))
    assert order.client_order_id == "x-TKT5PX2F:abc/1"
    assert order.resp_type is RespType.FULL
    assert order.price is None


def test_an_order_without_a_client_id_gets_one() -> None:
    first, second = wire.parse_new_order(MARKET), wire.parse_new_order(MARKET)
    assert len(first.client_order_id) == 22
    assert first.client_order_id != second.client_order_id


def test_a_limit_order_is_read_with_its_price_and_time_in_force() -> None:
    order = wire.parse_new_order({**LIMIT, "timeInForce": "IOC", "newOrderRespType": "ACK"})
    assert (order.price, order.time_in_force) == (Decimal(50000), TimeInForce.IOC)
    assert order.resp_type is RespType.ACK


@pytest.mark.parametrize(
    ("params", "code", "words"),
    [
        ({**MARKET, "symbol": ""}, -1102, "'symbol'"),
        ({**MARKET, "side": "HOLD"}, -1117, "Invalid side."),
        ({**MARKET, "type": "TRAILING_STOP"}, -1116, "Invalid orderType."),
        ({**MARKET, "type": "STOP_LOSS"}, -1102, "'stopPrice'"),
        ({**LIMIT, "type": "STOP_LOSS_LIMIT", "stopPrice": "1", "price": ""}, -1102, "'price'"),
        (
            {**LIMIT, "type": "TAKE_PROFIT_LIMIT", "stopPrice": "1", "timeInForce": ""},
            -1102,
            "'timeInForce'",
        ),
        ({**LIMIT, "type": "LIMIT_MAKER", "price": ""}, -1102, "'price'"),
        ({**MARKET, "quantity": "1e3"}, -1100, "'quantity'"),
        ({**MARKET, "quantity": "-1"}, -1100, "'quantity'"),
        ({**MARKET, "quantity": ""}, -1102, "'quantity'"),
        ({**MARKET, "quoteOrderQty": "10"}, -1128, "Combination"),
        ({**LIMIT, "price": ""}, -1102, "'price'"),
        ({**LIMIT, "timeInForce": ""}, -1102, "'timeInForce'"),
        ({**LIMIT, "timeInForce": "GTD"}, -1115, "Invalid timeInForce."),
        ({**LIMIT, "quantity": "", "quoteOrderQty": "10"}, -1102, "'quantity'"),
        ({**MARKET, "newClientOrderId": "has space"}, -1100, "'newClientOrderId'"),
        ({**MARKET, "newClientOrderId": "x" * 37}, -1100, "'newClientOrderId'"),
        ({**MARKET, "newOrderRespType": "ALL"}, -1100, "'newOrderRespType'"),
    ],
)
def test_a_malformed_order_is_refused_naming_what_is_wrong(
    params: dict[str, str], code: int, words: str
) -> None:
    with pytest.raises(BinanceError) as refused:
        wire.parse_new_order(params)
    assert refused.value.code == code
    assert words in refused.value.msg


def test_an_order_is_named_by_id_or_client_id() -> None:
    assert wire.parse_order_ref({"orderId": "12"}) == OrderRef(order_id=12)
    assert wire.parse_order_ref({"origClientOrderId": "a"}) == OrderRef(client_order_id="a")
    with pytest.raises(BinanceError, match="-1102"):
        wire.parse_order_ref({})
    with pytest.raises(BinanceError, match="-1100"):
        wire.parse_order_ref({"orderId": "twelve"})


def test_a_starting_balance_is_read_as_asset_equals_amount() -> None:
    assert accounts.parse_balance("usdt=10000.5") == ("USDT", Decimal("10000.5"))
    for bad in ("USDT", "US DT=1", "USDT=-1", "USDT=lots", "USDT=NaN"):
        with pytest.raises(ValueError, match=r"USDT|ASSET=AMOUNT"):
            accounts.parse_balance(bad)


def test_a_stop_loss_limit_is_read_with_its_stop_and_limit_prices() -> None:
    order = wire.parse_new_order(
        {**LIMIT, "side": "SELL", "type": "STOP_LOSS_LIMIT", "stopPrice": "59000"}
    )
    assert (order.type, order.stop_price, order.price) == (
        OrderType.STOP_LOSS_LIMIT,
        Decimal(59000),
        Decimal(50000),
    )


def test_a_market_stop_ignores_a_price_and_needs_no_time_in_force() -> None:
    order = wire.parse_new_order({**MARKET, "type": "TAKE_PROFIT", "stopPrice": "61000"})
    assert (order.price, order.stop_price, order.time_in_force) == (
        None,
        Decimal(61000),
        TimeInForce.GTC,
    )


OCO = {
    "symbol": "BTCUSDT",
    "side": "SELL",
    "quantity": "0.01",
    "aboveType": "LIMIT_MAKER",
    "abovePrice": "62000",
    "belowType": "STOP_LOSS_LIMIT",
    "belowStopPrice": "59000",
    "belowPrice": "58900",
    "belowTimeInForce": "GTC",
    "listClientOrderId": "list-1",
    "aboveClientOrderId": "tp-1",
    "belowClientOrderId": "sl-1",
}


def test_an_oco_is_read_with_both_legs_and_its_client_ids() -> None:
    oco = wire.parse_new_oco(OCO)
    assert (oco.side, oco.quantity, oco.list_client_order_id) == (
        Side.SELL,
        Decimal("0.01"),
        "list-1",
    )
    assert (oco.above.type, oco.above.price, oco.above.client_order_id) == (
        OrderType.LIMIT_MAKER,
        Decimal(62000),
        "tp-1",
    )
    assert (oco.below.type, oco.below.stop_price, oco.below.price) == (
        OrderType.STOP_LOSS_LIMIT,
        Decimal(59000),
        Decimal(58900),
    )


@pytest.mark.parametrize(
    ("params", "code", "words"),
    [
        ({**OCO, "quantity": ""}, -1102, "'quantity'"),
        ({**OCO, "aboveType": "LIMIT"}, -1158, "Order type not supported in OCO."),
        ({**OCO, "belowType": "MARKET"}, -1158, "Order type not supported in OCO."),
        ({**OCO, "belowType": "NONSENSE"}, -1158, "Order type not supported in OCO."),
        ({**OCO, "abovePrice": ""}, -1102, "'abovePrice'"),
        ({**OCO, "belowStopPrice": ""}, -1102, "'belowStopPrice'"),
        ({**OCO, "belowTimeInForce": ""}, -1102, "'belowTimeInForce'"),
        ({**OCO, "listClientOrderId": "a b"}, -1100, "'listClientOrderId'"),
    ],
)
def test_a_malformed_oco_is_refused_naming_what_is_wrong(
    params: dict[str, str], code: int, words: str
) -> None:
    with pytest.raises(BinanceError) as refused:
        wire.parse_new_oco(params)
    assert refused.value.code == code
    assert words in refused.value.msg

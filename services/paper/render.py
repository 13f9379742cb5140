"""JSON answers shaped like Binance's spot API, field for field where ccxt reads them.

ccxt's ``parse_order`` takes the id, client id, status, amounts and times from these; its
``parse_trade`` takes fills from ``fills`` (``tradeId``, ``commission``, ``commissionAsset``)
and account trades from ``myTrades`` (``id``, ``orderListId`` marks them as spot).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from services.paper.domain.spot import Fees
from services.paper.markets import fmt
from services.paper.models import (
    Balance,
    ListStatus,
    Order,
    OrderList,
    RespType,
    Side,
    Trade,
)

Json = dict[str, object]


def _working_time(order: Order) -> int:
    return order.created_ms if order.working else -1


def _stop(order: Order) -> Json:
    return {"stopPrice": fmt(order.stop_price)} if order.type.is_conditional else {}


def _common(order: Order) -> Json:
    return {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "orderListId": order.order_list_id,
        "clientOrderId": order.client_order_id,
        "price": fmt(order.price),
        "origQty": fmt(order.orig_qty),
        "executedQty": fmt(order.executed_qty),
        "origQuoteOrderQty": fmt(order.orig_quote_qty),
        "cummulativeQuoteQty": fmt(order.cumm_quote_qty),
        "status": order.status.value,
        "timeInForce": order.time_in_force.value,
        "type": order.type.value,
        "side": order.side.value,
    }


def fill(trade: Trade) -> Json:
    """Render one element of a FULL answer's ``fills``."""
    return {
        "price": fmt(trade.price),
        "qty": fmt(trade.qty),
        "commission": fmt(trade.commission),
        "commissionAsset": trade.commission_asset,
        "tradeId": trade.trade_id,
    }


def new_order(order: Order, trades: Sequence[Trade], resp_type: RespType) -> Json:
    """Render the answer to ``POST /api/v3/order`` in the requested detail."""
    ack: Json = {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "orderListId": order.order_list_id,
        "clientOrderId": order.client_order_id,
        "transactTime": order.created_ms,
    }
    if resp_type is RespType.ACK:
        return ack
    result = {**_common(order), **ack, **_stop(order), "workingTime": _working_time(order)}
    result["selfTradePreventionMode"] = "NONE"
    if resp_type is RespType.FULL:
        result["fills"] = [fill(trade) for trade in trades]
    return result


def order_status(order: Order) -> Json:
    """Render an order for ``GET /api/v3/order``, ``openOrders`` and ``allOrders``."""
    return {
        **_common(order),
        "icebergQty": fmt(Decimal(0)),
        "stopPrice": fmt(order.stop_price),
        "time": order.created_ms,
        "updateTime": order.updated_ms,
        "isWorking": order.working,
        "workingTime": _working_time(order),
        "selfTradePreventionMode": "NONE",
    }


def canceled(order: Order, cancel_client_id: str) -> Json:
    """Render ``DELETE /api/v3/order``: like Binance, ``clientOrderId`` names the cancel."""
    return {
        **_common(order),
        **_stop(order),
        "origClientOrderId": order.client_order_id,
        "clientOrderId": cancel_client_id,
        "transactTime": order.updated_ms,
        "selfTradePreventionMode": "NONE",
    }


def order_list(head: OrderList, legs: Sequence[Order]) -> Json:
    """Render an order list without its orders' details (``GET /api/v3/orderList``)."""
    executing = head.status is ListStatus.EXECUTING
    return {
        "orderListId": head.order_list_id,
        "contingencyType": "OCO",
        "listStatusType": "EXEC_STARTED" if executing else "ALL_DONE",
        "listOrderStatus": head.status.value,
        "listClientOrderId": head.list_client_order_id,
        "transactionTime": head.updated_ms,
        "symbol": head.symbol,
        "orders": [
            {"symbol": leg.symbol, "orderId": leg.order_id, "clientOrderId": leg.client_order_id}
            for leg in legs
        ],
    }


def new_order_list(head: OrderList, legs: Sequence[Order], resp_type: RespType) -> Json:
    """Render the answer to ``POST /api/v3/orderList/oco``: the list and each leg's report."""
    body = order_list(head, legs)
    body["transactionTime"] = head.created_ms
    body["orderReports"] = [new_order(leg, (), resp_type) for leg in legs]
    return body


def canceled_list(head: OrderList, legs: Sequence[Order], cancel_client_id: str) -> Json:
    """Render ``DELETE /api/v3/orderList``: the list and each leg's cancel report."""
    body = order_list(head, legs)
    body["orderReports"] = [canceled(leg, cancel_client_id) for leg in legs]
    return body


def my_trade(trade: Trade) -> Json:
    """Render one entry of ``GET /api/v3/myTrades``."""
    return {
        "symbol": trade.symbol,
        "id": trade.trade_id,
        "orderId": trade.order_id,
        "orderListId": -1,
        "price": fmt(trade.price),
        "qty": fmt(trade.qty),
        "quoteQty": fmt(trade.quote_qty),
        "commission": fmt(trade.commission),
        "commissionAsset": trade.commission_asset,
        "time": trade.time_ms,
        "isBuyer": trade.side is Side.BUY,
        "isMaker": trade.is_maker,
        "isBestMatch": True,
    }


def _bps(rate: Decimal) -> int:
    return int(rate * 10_000)


def account(account_id: int, balances: Iterable[Balance], fees: Fees, now_ms: int) -> Json:
    """Render ``GET /api/v3/account`` (spot, every asset the account ever held)."""
    return {
        "makerCommission": _bps(fees.maker),
        "takerCommission": _bps(fees.taker),
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": fmt(fees.maker),
            "taker": fmt(fees.taker),
            "buyer": fmt(Decimal(0)),
            "seller": fmt(Decimal(0)),
        },
        "canTrade": True,
        "canWithdraw": False,
        "canDeposit": False,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": now_ms,
        "accountType": "SPOT",
        "balances": [
            {"asset": b.asset, "free": fmt(b.free), "locked": fmt(b.locked)} for b in balances
        ],
        "permissions": ["SPOT"],
        "uid": account_id,
    }


def ticker_price(symbol: str, price: Decimal) -> Json:
    """Render one entry of ``GET /api/v3/ticker/price``."""
    return {"symbol": symbol, "price": fmt(price)}


def ticker_24hr(symbol: str, last: Decimal, open_: Decimal, now_ms: int) -> Json:
    """Render one entry of ``GET /api/v3/ticker/24hr``; the book is the last price."""
    change = last - open_
    return {
        "symbol": symbol,
        "priceChange": fmt(change),
        "priceChangePercent": f"{change / open_ * 100:.3f}",
        "weightedAvgPrice": fmt((last + open_) / 2),
        "prevClosePrice": fmt(open_),
        "lastPrice": fmt(last),
        "lastQty": fmt(Decimal(0)),
        "bidPrice": fmt(last),
        "bidQty": fmt(Decimal(0)),
        "askPrice": fmt(last),
        "askQty": fmt(Decimal(0)),
        "openPrice": fmt(open_),
        "highPrice": fmt(max(last, open_)),
        "lowPrice": fmt(min(last, open_)),
        "volume": fmt(Decimal(0)),
        "quoteVolume": fmt(Decimal(0)),
        "openTime": now_ms - 86_400_000,
        "closeTime": now_ms,
        "firstId": -1,
        "lastId": -1,
        "count": 0,
    }

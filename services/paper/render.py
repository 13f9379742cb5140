"""JSON answers shaped like Binance's spot API, field for field where ccxt reads them.

ccxt's ``parse_order`` takes the id, client id, status, amounts and times from these; its
``parse_trade`` takes fills from ``fills`` (``tradeId``, ``commission``, ``commissionAsset``)
and account trades from ``myTrades`` (``id``, ``orderListId`` marks them as spot).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from services.paper.domain import Fees
from services.paper.markets import fmt
from services.paper.models import Balance, Order, RespType, Side, Trade

Json = dict[str, object]


def _common(order: Order) -> Json:
    return {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "orderListId": -1,
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
        "orderListId": -1,
        "clientOrderId": order.client_order_id,
        "transactTime": order.created_ms,
    }
    if resp_type is RespType.ACK:
        return ack
    result = {**_common(order), **ack, "workingTime": order.created_ms}
    result["selfTradePreventionMode"] = "NONE"
    if resp_type is RespType.FULL:
        result["fills"] = [fill(trade) for trade in trades]
    return result


def order_status(order: Order) -> Json:
    """Render an order for ``GET /api/v3/order``, ``openOrders`` and ``allOrders``."""
    return {
        **_common(order),
        "stopPrice": fmt(Decimal(0)),
        "icebergQty": fmt(Decimal(0)),
        "time": order.created_ms,
        "updateTime": order.updated_ms,
        "isWorking": True,
        "workingTime": order.created_ms,
        "selfTradePreventionMode": "NONE",
    }


def canceled(order: Order, cancel_client_id: str) -> Json:
    """Render ``DELETE /api/v3/order``: like Binance, ``clientOrderId`` names the cancel."""
    return {
        **_common(order),
        "origClientOrderId": order.client_order_id,
        "clientOrderId": cancel_client_id,
        "transactTime": order.updated_ms,
        "selfTradePreventionMode": "NONE",
    }


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

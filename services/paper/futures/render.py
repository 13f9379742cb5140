"""JSON answers shaped like Binance's ``/fapi``, field for field where ccxt reads them.

ccxt's ``parse_order`` tells a futures order by ``cumQuote``/``positionSide``, takes an algo
order's id from ``algoId``, its client id from ``clientAlgoId``, its status from
``algoStatus`` and its type from ``orderType``; ``parse_trade`` tells a futures trade by the
absence of spot's ``isMaker``.
"""

from __future__ import annotations

from decimal import Decimal

from services.paper.domain import futures as domain
from services.paper.futures.engine import AccountState
from services.paper.futures.models import (
    AlgoOrder,
    FuturesOrder,
    FuturesTrade,
    Income,
    MarginType,
    Position,
)
from services.paper.models import ZERO, Side

Json = dict[str, object]


def num(value: Decimal) -> str:
    """Render a decimal without exponent or trailing zeros, as Binance's futures API does."""
    return format(value.normalize(), "f") if value else "0"


def order(o: FuturesOrder) -> Json:
    """Render an order for ``/order`` (all methods), ``openOrders`` and ``allOpenOrders``."""
    return {
        "orderId": o.order_id,
        "symbol": o.symbol,
        "status": o.status.value,
        "clientOrderId": o.client_order_id,
        "price": num(o.price),
        "avgPrice": num(domain.round8(o.avg_price)),
        "origQty": num(o.orig_qty),
        "executedQty": num(o.executed_qty),
        "cumQty": num(o.executed_qty),
        "cumQuote": num(o.cum_quote),
        "timeInForce": o.time_in_force.value,
        "type": o.type.value,
        "reduceOnly": o.reduce_only,
        "closePosition": o.close_position,
        "side": o.side.value,
        "positionSide": "BOTH",
        "stopPrice": "0",
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "origType": o.type.value,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "NONE",
        "goodTillDate": 0,
        "time": o.created_ms,
        "updateTime": o.updated_ms,
    }


def algo(a: AlgoOrder) -> Json:
    """Render an algo order for ``/algoOrder`` and ``openAlgoOrders``."""
    return {
        "algoId": a.algo_id,
        "clientAlgoId": a.client_algo_id,
        "algoType": "CONDITIONAL",
        "orderType": a.type.value,
        "symbol": a.symbol,
        "side": a.side.value,
        "positionSide": "BOTH",
        "timeInForce": a.time_in_force.value,
        "quantity": num(a.quantity),
        "algoStatus": a.status.value,
        "actualOrderId": str(a.actual_order_id) if a.actual_order_id else "",
        "actualPrice": num(domain.round8(a.avg_price)),
        "executedQty": num(a.executed_qty),
        "triggerPrice": num(a.trigger_price),
        "price": num(a.price),
        "icebergQuantity": None,
        "selfTradePreventionMode": "NONE",
        "workingType": "CONTRACT_PRICE",
        "priceMatch": "NONE",
        "closePosition": a.close_position,
        "priceProtect": False,
        "reduceOnly": a.reduce_only,
        "activatePrice": num(a.activate_price),
        "callbackRate": num(a.callback_rate),
        "createTime": a.created_ms,
        "updateTime": a.updated_ms,
        "triggerTime": a.trigger_ms,
        "goodTillDate": 0,
    }


def algo_canceled(a: AlgoOrder) -> Json:
    """Render ``DELETE /fapi/v1/algoOrder``."""
    return {"algoId": a.algo_id, "clientAlgoId": a.client_algo_id, "code": "200", "msg": "success"}


def all_canceled() -> Json:
    """Render ``DELETE allOpenOrders`` / ``algoOpenOrders``."""
    return {"code": 200, "msg": "The operation of cancel all open order is done."}


def user_trade(t: FuturesTrade) -> Json:
    """Render one ``GET /fapi/v1/userTrades`` entry."""
    return {
        "buyer": t.side is Side.BUY,
        "commission": num(t.commission),
        "commissionAsset": "USDT",
        "id": t.trade_id,
        "maker": t.is_maker,
        "orderId": t.order_id,
        "price": num(t.price),
        "qty": num(t.qty),
        "quoteQty": num(t.quote_qty),
        "realizedPnl": num(t.realized_pnl),
        "side": t.side.value,
        "positionSide": "BOTH",
        "symbol": t.symbol,
        "time": t.time_ms,
    }


def income(i: Income) -> Json:
    """Render one ``GET /fapi/v1/income`` row."""
    return {
        "symbol": i.symbol,
        "incomeType": i.income_type.value,
        "income": num(i.income),
        "asset": "USDT",
        "info": i.income_type.value,
        "time": i.time_ms,
        "tranId": i.tran_id,
        "tradeId": str(i.trade_id) if i.trade_id else "",
    }


def position_risk(state: AccountState, p: Position, now: int, *, v2: bool) -> Json:
    """Render one position for ``positionRisk`` (v3; v2 adds leverage and margin type)."""
    mark = state.exposure.marks.get(p.symbol, ZERO)
    notional = domain.round8(p.amount * mark)
    isolated = p.margin_type is MarginType.ISOLATED
    upnl = domain.unrealized(p, mark) if p.amount else ZERO
    margin = domain.initial_margin(p, mark) if p.amount else ZERO
    body: Json = {
        "symbol": p.symbol,
        "positionSide": "BOTH",
        "positionAmt": num(p.amount),
        "entryPrice": num(p.entry_price),
        "breakEvenPrice": num(p.entry_price),
        "markPrice": num(mark),
        "unRealizedProfit": num(upnl),
        "liquidationPrice": num(state.liquidation_price(p)),
        "isolatedMargin": num(p.isolated_margin + upnl if isolated and p.amount else ZERO),
        "notional": num(notional),
        "marginAsset": "USDT",
        "isolatedWallet": num(p.isolated_margin),
        "initialMargin": num(margin),
        "maintMargin": num(domain.round8(abs(notional) * state.maintenance_rate)),
        "positionInitialMargin": num(margin),
        "openOrderInitialMargin": "0",
        "adl": 0,
        "bidNotional": "0",
        "askNotional": "0",
        "updateTime": p.updated_ms or now,
    }
    if v2:
        body |= {
            "leverage": str(p.leverage),
            "marginType": "isolated" if isolated else "cross",
            "isolated": isolated,
            "isAutoAddMargin": "false",
            "maxNotionalValue": "1000000000",
        }
    return body


def _asset(state: AccountState, now: int) -> Json:
    book = state.exposure
    upnl = sum(
        (domain.unrealized(p, book.marks[p.symbol]) for p in book.positions if p.amount), ZERO
    )
    margin = book.position_margin()
    return {
        "asset": "USDT",
        "walletBalance": num(book.wallet),
        "unrealizedProfit": num(upnl),
        "marginBalance": num(book.wallet + upnl),
        "maintMargin": num(
            domain.round8(
                sum((abs(p.amount) * book.marks[p.symbol] for p in book.positions), ZERO)
                * state.maintenance_rate
            )
        ),
        "initialMargin": num(margin + book.order_margin),
        "positionInitialMargin": num(margin),
        "openOrderInitialMargin": num(book.order_margin),
        "crossWalletBalance": num(book.cross_wallet()),
        "crossUnPnl": num(book.cross_unrealized()),
        "availableBalance": num(max(book.available(), ZERO)),
        "maxWithdrawAmount": num(max(book.available(), ZERO)),
        "marginAvailable": True,
        "updateTime": now,
    }


def account(state: AccountState, now: int) -> Json:
    """Render ``GET /fapi/v2|v3/account``: the USDT wallet and the open positions."""
    asset = _asset(state, now)
    return {
        "totalInitialMargin": asset["initialMargin"],
        "totalMaintMargin": asset["maintMargin"],
        "totalWalletBalance": asset["walletBalance"],
        "totalUnrealizedProfit": asset["unrealizedProfit"],
        "totalMarginBalance": asset["marginBalance"],
        "totalPositionInitialMargin": asset["positionInitialMargin"],
        "totalOpenOrderInitialMargin": asset["openOrderInitialMargin"],
        "totalCrossWalletBalance": asset["crossWalletBalance"],
        "totalCrossUnPnl": asset["crossUnPnl"],
        "availableBalance": asset["availableBalance"],
        "maxWithdrawAmount": asset["maxWithdrawAmount"],
        "assets": [asset],
        "positions": [
            position_risk(state, p, now, v2=False) for p in state.exposure.positions if p.amount
        ],
    }


def balance(state: AccountState, account_alias: str, now: int) -> list[Json]:
    """Render ``GET /fapi/v2|v3/balance``."""
    asset = _asset(state, now)
    return [
        {
            "accountAlias": account_alias,
            "asset": "USDT",
            "balance": asset["walletBalance"],
            "crossWalletBalance": asset["crossWalletBalance"],
            "crossUnPnl": asset["crossUnPnl"],
            "availableBalance": asset["availableBalance"],
            "maxWithdrawAmount": asset["maxWithdrawAmount"],
            "marginAvailable": True,
            "updateTime": now,
        }
    ]


def premium_index(symbol: str, mark: Decimal, rate: Decimal, next_ms: int, now: int) -> Json:
    """Render one ``GET /fapi/v1/premiumIndex`` entry (mark = index = the feed's price)."""
    return {
        "symbol": symbol,
        "markPrice": num(mark),
        "indexPrice": num(mark),
        "estimatedSettlePrice": num(mark),
        "lastFundingRate": num(rate),
        "interestRate": "0.0001",
        "nextFundingTime": next_ms,
        "time": now,
    }

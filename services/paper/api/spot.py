"""The subset of Binance's spot REST API (``/api/v3``) that ccxt's ``binance`` class uses."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.paper import errors, render, wire
from services.paper.api.deps import (
    Exchange,
    InjectedServerError,
    Signed,
    fault_gate,
    faults_of,
)
from services.paper.faults import AFTER_ACCEPTING, FaultKind, RequestScope
from services.paper.markets import exchange_info
from services.paper.store.database import TradeQuery

DAY_MS = 86_400_000
MAX_LIMIT = 1000


class BinanceErrorBody(BaseModel):
    """Binance's error answer (not Sparky's error shape: ccxt reads this one)."""

    code: int
    msg: str


def _binance(description: str) -> dict[str, object]:
    return {"model": BinanceErrorBody, "description": description}


router = APIRouter(
    prefix="/api/v3",
    dependencies=[Depends(fault_gate)],
    tags=["binance"],
    responses={
        400: _binance("A parameter, signature or timestamp Binance would refuse."),
        401: _binance("The API key is missing, malformed, unknown or deleted (-2014, -2015)."),
        418: _binance("The address is banned for calling on after a 429 (-1003)."),
        429: _binance("Over the request-weight limit, or an injected 429 (-1003)."),
    },
)


def _limit(params: wire.Params, default: int) -> int:
    return min(wire.int_param(params, "limit") or default, MAX_LIMIT)


@router.get("/ping")
async def ping() -> JSONResponse:
    """Answer that the exchange is up."""
    return JSONResponse({})


@router.get("/time")
async def server_time(exchange: Exchange) -> JSONResponse:
    """Answer the exchange's clock."""
    return JSONResponse({"serverTime": exchange.clock()})


@router.get("/exchangeInfo")
async def get_exchange_info(exchange: Exchange, symbol: str | None = None) -> JSONResponse:
    """Answer the listed markets and their filters."""
    markets = [exchange.market(symbol)] if symbol else list(exchange.markets.values())
    return JSONResponse(exchange_info(markets, exchange.clock()))


@router.get("/ticker/price")
async def ticker_price(exchange: Exchange, symbol: str | None = None) -> JSONResponse:
    """Answer the current price of one market, or of all."""
    if symbol:
        return JSONResponse(render.ticker_price(symbol, exchange.price(symbol)))
    now = exchange.clock()
    prices = exchange.prices.snapshot(now)
    return JSONResponse([render.ticker_price(s, p) for s, p in prices.items()])


@router.get("/ticker/24hr")
async def ticker_24hr(exchange: Exchange, symbol: str | None = None) -> JSONResponse:
    """Answer the 24-hour ticker of one market, or of all (no volume: nobody else trades)."""
    now = exchange.clock()
    symbols = [exchange.market(symbol).symbol] if symbol else list(exchange.markets)
    tickers = [
        render.ticker_24hr(
            s, exchange.prices.price(s, now), exchange.prices.price(s, now - DAY_MS), now
        )
        for s in symbols
    ]
    return JSONResponse(tickers[0] if symbol else tickers)


async def _after_accepting(request: Request, account_id: int) -> None:
    scope = RequestScope(request.method, request.url.path, account_id)
    fault = faults_of(request).take(AFTER_ACCEPTING, scope)
    if fault is None:
        return
    if fault.kind is FaultKind.ACCEPT_THEN_TIMEOUT:
        await asyncio.sleep(fault.delay_ms / 1000)
    else:
        raise InjectedServerError(fault.status)


@router.post("/order")
async def new_order(request: Request, caller: Signed, exchange: Exchange) -> JSONResponse:
    """Place a market, limit, LIMIT_MAKER, stop-loss or take-profit order."""
    order = wire.parse_new_order(caller.params)
    placed = await exchange.place(caller.account_id, order)
    await _after_accepting(request, caller.account_id)
    return JSONResponse(render.new_order(placed.order, placed.trades, order.resp_type))


@router.get("/order")
async def get_order(caller: Signed, exchange: Exchange) -> JSONResponse:
    """Look an order up by ``orderId`` or ``origClientOrderId``."""
    symbol = wire.required(caller.params, "symbol")
    ref = wire.parse_order_ref(caller.params)
    order = await exchange.order(caller.account_id, symbol, ref)
    return JSONResponse(render.order_status(order))


@router.delete("/order")
async def cancel_order(caller: Signed, exchange: Exchange) -> JSONResponse:
    """Cancel an open order."""
    symbol = wire.required(caller.params, "symbol")
    ref = wire.parse_order_ref(caller.params)
    cancel_id = wire.client_id_param(caller.params, "newClientOrderId")
    order = await exchange.cancel(caller.account_id, symbol, ref)
    return JSONResponse(render.canceled(order, cancel_id or wire.new_client_order_id()))


@router.post("/orderList/oco")
async def new_oco(caller: Signed, exchange: Exchange) -> JSONResponse:
    """Place an OCO order list (a take-profit above and a stop-loss below, for a SELL)."""
    request = wire.parse_new_oco(caller.params)
    listed = await exchange.place_oco(caller.account_id, request)
    return JSONResponse(render.new_order_list(listed.order_list, listed.legs, request.resp_type))


@router.get("/orderList")
async def get_order_list(caller: Signed, exchange: Exchange) -> JSONResponse:
    """Look an order list up by ``orderListId`` or ``origClientOrderId`` (its list id)."""
    list_id, client_id = wire.parse_list_ref(caller.params, "origClientOrderId")
    listed = await exchange.order_list(caller.account_id, list_id, client_id)
    return JSONResponse(render.order_list(listed.order_list, listed.legs))


@router.delete("/orderList")
async def cancel_order_list(caller: Signed, exchange: Exchange) -> JSONResponse:
    """Cancel an order list by ``orderListId`` or ``listClientOrderId``."""
    symbol = wire.required(caller.params, "symbol")
    list_id, client_id = wire.parse_list_ref(caller.params, "listClientOrderId")
    cancel_id = wire.client_id_param(caller.params, "newClientOrderId")
    listed = await exchange.cancel_list(caller.account_id, symbol, list_id, client_id)
    body = render.canceled_list(
        listed.order_list, listed.legs, cancel_id or wire.new_client_order_id()
    )
    return JSONResponse(body)


@router.get("/openOrderList")
async def open_order_lists(caller: Signed, exchange: Exchange) -> JSONResponse:
    """List the account's executing order lists."""
    lists = await exchange.store.open_order_lists(caller.account_id)
    return JSONResponse([render.order_list(head, legs) for head, legs in lists])


@router.get("/openOrders")
async def open_orders(caller: Signed, exchange: Exchange) -> JSONResponse:
    """List the account's open orders, in one market or all."""
    symbol = caller.params.get("symbol") or None
    if symbol is not None:
        exchange.market(symbol)
    orders = await exchange.store.orders(caller.account_id, symbol, open_only=True)
    return JSONResponse([render.order_status(order) for order in orders])


@router.get("/allOrders")
async def all_orders(caller: Signed, exchange: Exchange) -> JSONResponse:
    """List the account's most recent orders in one market."""
    symbol = exchange.market(wire.required(caller.params, "symbol")).symbol
    limit = _limit(caller.params, 500)
    orders = await exchange.store.orders(caller.account_id, symbol, open_only=False, limit=limit)
    return JSONResponse([render.order_status(order) for order in orders])


@router.get("/account")
async def account(caller: Signed, exchange: Exchange) -> JSONResponse:
    """Answer the account's balances."""
    balances = await exchange.store.balances(caller.account_id)
    body = render.account(caller.account_id, balances, exchange.fees, exchange.clock())
    return JSONResponse(body)


@router.get("/myTrades")
async def my_trades(caller: Signed, exchange: Exchange) -> JSONResponse:
    """List the account's trades in one market."""
    params = caller.params
    query = TradeQuery(
        symbol=exchange.market(wire.required(params, "symbol")).symbol,
        order_id=wire.int_param(params, "orderId"),
        from_id=wire.int_param(params, "fromId"),
        start_ms=wire.int_param(params, "startTime"),
        end_ms=wire.int_param(params, "endTime"),
        limit=_limit(params, 500),
    )
    trades = await exchange.store.trades(caller.account_id, query)
    return JSONResponse([render.my_trade(trade) for trade in trades])


def binance_invalid_parameter(exc: RequestValidationError) -> JSONResponse:
    """Render a parameter FastAPI refused as Binance would (-1100, HTTP 400)."""
    problems = exc.errors()
    name = str(problems[0]["loc"][-1]) if problems and problems[0].get("loc") else "parameter"
    return binance_error_response(errors.illegal(name, "^[A-Z0-9-_.]{1,20}$"))


def binance_error_response(exc: errors.BinanceError) -> JSONResponse:
    """Render a BinanceError as Binance does."""
    headers = {"Retry-After": str(exc.retry_after_s)} if exc.retry_after_s else None
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

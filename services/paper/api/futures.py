"""The subset of Binance's USDⓈ-M futures REST API (``/fapi``) that ccxt's ``binanceusdm`` uses.

Three routers, one per version prefix, as ccxt's ``fapiPrivate``/``fapiPrivateV2``/
``fapiPrivateV3`` (and public) URLs name them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from services.paper import errors
from services.paper import render as spot_render
from services.paper.api.deps import Signed, fault_gate
from services.paper.api.spot import DAY_MS, BinanceErrorBody
from services.paper.futures import errors as ferrors
from services.paper.futures import markets, render, wire
from services.paper.futures.engine import FuturesExchange
from services.paper.futures.models import IncomeType
from services.paper.runtime import runtime_of
from services.paper.wire import Params, int_param, required

MAX_LIMIT = 1000


def _binance(description: str) -> dict[str, object]:
    return {"model": BinanceErrorBody, "description": description}


RESPONSES: dict[int | str, dict[str, object]] = {
    400: _binance("A parameter, signature, timestamp or order Binance would refuse."),
    401: _binance("The API key is missing, malformed, unknown or deleted (-2014, -2015)."),
    418: _binance("The address is banned for calling on after a 429 (-1003)."),
    429: _binance("Over the request-weight limit, or an injected 429 (-1003)."),
}


def _router(prefix: str) -> APIRouter:
    return APIRouter(
        prefix=prefix,
        dependencies=[Depends(fault_gate)],
        tags=["binance futures"],
        responses=RESPONSES,
    )


v1 = _router("/fapi/v1")
v2 = _router("/fapi/v2")
v3 = _router("/fapi/v3")
PREFIX = "/fapi/"


async def current_futures(request: Request) -> FuturesExchange:
    """Depend on the futures exchange the app's lifespan built."""
    return runtime_of(request).futures


Futures = Annotated[FuturesExchange, Depends(current_futures)]


def _symbol(params: Params) -> str | None:
    return params.get("symbol") or None


def _limit(params: Params, default: int) -> int:
    return min(int_param(params, "limit") or default, MAX_LIMIT)


@v1.get("/ping")
async def ping() -> JSONResponse:
    """Answer that the exchange is up."""
    return JSONResponse({})


@v1.get("/time")
async def server_time(futures: Futures) -> JSONResponse:
    """Answer the exchange's clock."""
    return JSONResponse({"serverTime": futures.clock()})


@v1.get("/exchangeInfo")
async def exchange_info(futures: Futures) -> JSONResponse:
    """Answer the listed perpetuals and their filters."""
    return JSONResponse(markets.exchange_info(futures.markets.values(), futures.clock()))


@v1.get("/ticker/24hr")
async def ticker_24hr(futures: Futures, symbol: str | None = None) -> JSONResponse:
    """Answer the 24-hour ticker of one perpetual, or of all (the feed's price now and a day
    ago; no volume: nobody else trades)."""
    now = futures.clock()
    symbols = [futures.market(symbol).symbol] if symbol else list(futures.markets)
    rows = [
        spot_render.ticker_24hr(
            s, futures.prices.price(s, now), futures.prices.price(s, now - DAY_MS), now
        )
        for s in symbols
    ]
    return JSONResponse(rows[0] if symbol else rows)


@v1.get("/ticker/price")
async def ticker_price(futures: Futures, symbol: str | None = None) -> JSONResponse:
    """Answer the last price of one perpetual, or of all."""
    symbols = [futures.market(symbol).symbol] if symbol else list(futures.markets)
    rows = [spot_render.ticker_price(s, futures.mark(s)) for s in symbols]
    return JSONResponse(rows[0] if symbol else rows)


@v1.get("/premiumIndex")
async def premium_index(futures: Futures, symbol: str | None = None) -> JSONResponse:
    """Answer the mark price and funding rate of one perpetual, or of all."""
    now, rate, next_ms = (
        futures.clock(),
        futures.settings.fees.funding_rate,
        futures.next_funding_ms(),
    )
    symbols = [futures.market(symbol).symbol] if symbol else list(futures.markets)
    rows = [render.premium_index(s, futures.mark(s), rate, next_ms, now) for s in symbols]
    return JSONResponse(rows[0] if symbol else rows)


@v1.get("/leverageBracket")
async def leverage_bracket(caller: Signed, futures: Futures) -> JSONResponse:
    """Answer the notional brackets (one per symbol: the paper's maintenance margin rate)."""
    symbol = _symbol(caller.params)
    listed = [futures.market(symbol)] if symbol else list(futures.markets.values())
    brackets = markets.leverage_brackets(listed, futures.settings.fees.maintenance_rate)
    return JSONResponse(brackets[0] if symbol else brackets)


@v1.post("/order")
async def new_order(caller: Signed, futures: Futures) -> JSONResponse:
    """Place a MARKET or LIMIT order (the answer is the RESULT one: fills included)."""
    placed = await futures.place(caller.account_id, wire.parse_order(caller.params))
    return JSONResponse(render.order(placed))


@v1.get("/order")
async def get_order(caller: Signed, futures: Futures) -> JSONResponse:
    """Look an order up by ``orderId`` or ``origClientOrderId``."""
    symbol = required(caller.params, "symbol")
    order_id, client_id = wire.order_ref(caller.params)
    return JSONResponse(
        render.order(await futures.order(caller.account_id, symbol, order_id, client_id))
    )


@v1.delete("/order")
async def cancel_order(caller: Signed, futures: Futures) -> JSONResponse:
    """Cancel a resting order."""
    symbol = required(caller.params, "symbol")
    order_id, client_id = wire.order_ref(caller.params)
    canceled = await futures.cancel(caller.account_id, symbol, order_id, client_id)
    return JSONResponse(render.order(canceled))


@v1.get("/openOrders")
async def open_orders(caller: Signed, futures: Futures) -> JSONResponse:
    """List resting orders, of one symbol or all."""
    found = await futures.open_orders(caller.account_id, _symbol(caller.params))
    return JSONResponse([render.order(o) for o in found])


@v1.delete("/allOpenOrders")
async def cancel_all(caller: Signed, futures: Futures) -> JSONResponse:
    """Cancel every resting order of one symbol."""
    await futures.cancel_all(caller.account_id, required(caller.params, "symbol"))
    return JSONResponse(render.all_canceled())


@v1.post("/algoOrder")
async def new_algo(caller: Signed, futures: Futures) -> JSONResponse:
    """Accept a conditional order (STOP, TAKE_PROFIT, *_MARKET, TRAILING_STOP_MARKET)."""
    placed = await futures.place_algo(caller.account_id, wire.parse_algo(caller.params))
    return JSONResponse(render.algo(placed))


@v1.get("/algoOrder")
async def get_algo(caller: Signed, futures: Futures) -> JSONResponse:
    """Look an algo order up by ``algoId`` or ``clientAlgoId``."""
    algo_id, client_id = wire.algo_ref(caller.params)
    return JSONResponse(render.algo(await futures.algo(caller.account_id, algo_id, client_id)))


@v1.delete("/algoOrder")
async def cancel_algo(caller: Signed, futures: Futures) -> JSONResponse:
    """Cancel a waiting algo order."""
    algo_id, client_id = wire.algo_ref(caller.params)
    canceled = await futures.cancel_algo(caller.account_id, algo_id, client_id)
    return JSONResponse(render.algo_canceled(canceled))


@v1.get("/openAlgoOrders")
async def open_algos(caller: Signed, futures: Futures) -> JSONResponse:
    """List waiting algo orders, of one symbol or all."""
    found = await futures.open_algos(caller.account_id, _symbol(caller.params))
    return JSONResponse([render.algo(a) for a in found])


@v1.delete("/algoOpenOrders")
async def cancel_all_algos(caller: Signed, futures: Futures) -> JSONResponse:
    """Cancel every waiting algo order of one symbol."""
    await futures.cancel_all_algos(caller.account_id, required(caller.params, "symbol"))
    return JSONResponse(render.all_canceled())


@v1.get("/userTrades")
async def user_trades(caller: Signed, futures: Futures) -> JSONResponse:
    """List the account's trades in one symbol."""
    params = caller.params
    trades = await futures.trades(
        caller.account_id,
        required(params, "symbol"),
        int_param(params, "orderId"),
        int_param(params, "fromId"),
        _limit(params, 500),
    )
    return JSONResponse([render.user_trade(t) for t in trades])


@v1.get("/income")
async def income(caller: Signed, futures: Futures) -> JSONResponse:
    """List the account's income: realized PnL, commissions, funding fees, clearances."""
    params = caller.params
    kind = params.get("incomeType") or None
    try:
        income_type = IncomeType(kind) if kind else None
    except ValueError:
        raise errors.illegal("incomeType", "|".join(IncomeType)) from None
    window = (int_param(params, "startTime"), int_param(params, "endTime"))
    rows = await futures.income(
        caller.account_id, _symbol(params), income_type, window, _limit(params, 100)
    )
    return JSONResponse([render.income(i) for i in rows])


@v1.post("/leverage")
async def set_leverage(caller: Signed, futures: Futures) -> JSONResponse:
    """Set a symbol's leverage."""
    symbol = required(caller.params, "symbol")
    position = await futures.set_leverage(caller.account_id, symbol, wire.leverage(caller.params))
    return JSONResponse(
        {"leverage": position.leverage, "maxNotionalValue": "1000000000", "symbol": symbol}
    )


@v1.post("/marginType")
async def set_margin_type(caller: Signed, futures: Futures) -> JSONResponse:
    """Switch a symbol between ISOLATED and CROSSED margin."""
    symbol = required(caller.params, "symbol")
    await futures.set_margin_type(caller.account_id, symbol, wire.margin_type(caller.params))
    return JSONResponse({"code": 200, "msg": "success"})


@v1.get("/positionSide/dual")
async def get_position_mode(caller: Signed) -> JSONResponse:
    """Answer the position mode: always one-way."""
    return JSONResponse({"dualSidePosition": False})


@v1.post("/positionSide/dual")
async def set_position_mode(caller: Signed) -> JSONResponse:
    """Refuse hedge mode; one-way mode is already set."""
    if wire.dual_side(caller.params):
        raise ferrors.hedge_mode_refused()
    raise ferrors.position_side_unchanged()


async def _account(caller: Signed, futures: Futures) -> JSONResponse:
    state = await futures.state(caller.account_id)
    return JSONResponse(render.account(state, futures.clock()))


async def _balance(caller: Signed, futures: Futures) -> JSONResponse:
    state = await futures.state(caller.account_id)
    return JSONResponse(render.balance(state, f"paper{caller.account_id}", futures.clock()))


async def _positions(caller: Signed, futures: Futures, *, v2: bool) -> JSONResponse:
    symbol = _symbol(caller.params)
    if symbol is not None:
        futures.market(symbol)
    state = await futures.state(caller.account_id)
    now = futures.clock()
    body = [
        render.position_risk(state, p, now, v2=v2)
        for p in state.exposure.positions
        if symbol in {None, p.symbol} and (p.amount or v2)
    ]
    return JSONResponse(body)


@v2.get("/account")
async def account_v2(caller: Signed, futures: Futures) -> JSONResponse:
    """Answer the USDT wallet, margins and open positions."""
    return await _account(caller, futures)


@v3.get("/account")
async def account_v3(caller: Signed, futures: Futures) -> JSONResponse:
    """Answer the USDT wallet, margins and open positions (what ccxt's fetch_balance reads)."""
    return await _account(caller, futures)


@v2.get("/balance")
async def balance_v2(caller: Signed, futures: Futures) -> JSONResponse:
    """Answer the USDT futures balance."""
    return await _balance(caller, futures)


@v3.get("/balance")
async def balance_v3(caller: Signed, futures: Futures) -> JSONResponse:
    """Answer the USDT futures balance."""
    return await _balance(caller, futures)


@v2.get("/positionRisk")
async def position_risk_v2(caller: Signed, futures: Futures) -> JSONResponse:
    """Answer every symbol's position with its leverage and margin type."""
    return await _positions(caller, futures, v2=True)


@v3.get("/positionRisk")
async def position_risk_v3(caller: Signed, futures: Futures) -> JSONResponse:
    """Answer the open positions (what ccxt's fetch_positions reads)."""
    return await _positions(caller, futures, v2=False)

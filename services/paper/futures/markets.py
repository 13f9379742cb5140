"""The USDⓈ-M perpetuals the paper exchange lists, and ``GET /fapi/v1/exchangeInfo``.

Same symbols and reference prices as spot (one price feed serves both), Binance's futures
filters: PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE and MIN_NOTIONAL (``notional``), with the
order types ccxt checks before it sends a conditional order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from services.paper.futures.models import FuturesTif, FuturesType
from services.paper.markets import Market, index

MAX_LEVERAGE = 125


def _m(symbol: str, tick: str, step: str, notional: str, ref: str) -> Market:
    return Market(
        symbol=symbol,
        base=symbol.removesuffix("USDT"),
        quote="USDT",
        tick_size=Decimal(tick),
        step_size=Decimal(step),
        min_notional=Decimal(notional),
        reference_price=Decimal(ref),
        max_qty=Decimal(100_000_000),
    )


CATALOGUE: tuple[Market, ...] = (
    _m("BTCUSDT", "0.10", "0.001", "100", "60000"),
    _m("ETHUSDT", "0.01", "0.001", "20", "3000"),
    _m("BNBUSDT", "0.01", "0.01", "5", "600"),
    _m("SOLUSDT", "0.01", "0.01", "5", "150"),
    _m("XRPUSDT", "0.0001", "0.1", "5", "0.6"),
    _m("DOGEUSDT", "0.00001", "1", "5", "0.15"),
)


def listed() -> Mapping[str, Market]:
    """Return the perpetuals by symbol."""
    return index(CATALOGUE)


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _filters(market: Market) -> list[dict[str, object]]:
    lot = {
        "minQty": _plain(market.lowest_qty),
        "maxQty": _plain(market.max_qty),
        "stepSize": _plain(market.step_size),
    }
    return [
        {
            "filterType": "PRICE_FILTER",
            "minPrice": _plain(market.lowest_price),
            "maxPrice": _plain(market.max_price),
            "tickSize": _plain(market.tick_size),
        },
        {"filterType": "LOT_SIZE", **lot},
        {"filterType": "MARKET_LOT_SIZE", **lot},
        {"filterType": "MAX_NUM_ORDERS", "limit": 200},
        {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
        {"filterType": "MIN_NOTIONAL", "notional": _plain(market.min_notional)},
    ]


def _precision(step: Decimal) -> int:
    exponent = step.normalize().as_tuple().exponent
    return max(-exponent, 0) if isinstance(exponent, int) else 0


def symbol_info(market: Market) -> dict[str, object]:
    """Return one perpetual as ``exchangeInfo`` lists it."""
    return {
        "symbol": market.symbol,
        "pair": market.symbol,
        "contractType": "PERPETUAL",
        "deliveryDate": 4133404800000,
        "onboardDate": 1569398400000,
        "status": "TRADING",
        "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000",
        "baseAsset": market.base,
        "quoteAsset": market.quote,
        "marginAsset": "USDT",
        "pricePrecision": _precision(market.tick_size),
        "quantityPrecision": _precision(market.step_size),
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "underlyingSubType": [],
        "triggerProtect": "0.0500",
        "liquidationFee": "0.012500",
        "marketTakeBound": "0.05",
        "maxMoveOrderLimit": 10000,
        "filters": _filters(market),
        "orderTypes": [t.value for t in FuturesType],
        "timeInForce": [t.value for t in FuturesTif],
    }


def exchange_info(markets: Iterable[Market], server_time_ms: int) -> dict[str, object]:
    """Return the whole ``GET /fapi/v1/exchangeInfo`` answer."""
    return {
        "timezone": "UTC",
        "serverTime": server_time_ms,
        "futuresType": "U_MARGINED",
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": 2400,
            },
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
        ],
        "exchangeFilters": [],
        "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
        "symbols": [symbol_info(market) for market in markets],
    }


def leverage_brackets(
    markets: Iterable[Market], maintenance_rate: Decimal
) -> list[dict[str, object]]:
    """Return ``GET /fapi/v1/leverageBracket``: one bracket per symbol, the paper's single rate."""
    return [
        {
            "symbol": market.symbol,
            "brackets": [
                {
                    "bracket": 1,
                    "initialLeverage": MAX_LEVERAGE,
                    "notionalCap": 1_000_000_000,
                    "notionalFloor": 0,
                    "maintMarginRatio": float(maintenance_rate),
                    "cum": 0.0,
                }
            ],
        }
        for market in markets
    ]

"""The markets the paper exchange lists, with Binance's filters, and its exchangeInfo answer.

Filters are data: ccxt's ``parse_market`` reads the price tick from PRICE_FILTER, the amount
step and limits from LOT_SIZE, and the minimum cost from NOTIONAL, so ``amount_to_precision``
and ``price_to_precision`` round exactly as the exchange checks. Every step and tick here keeps
``price * quantity`` within 8 decimals, the precision of Binance's quote amounts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from services.paper.models import OrderType

PRECISION = 8
ORDER_TYPES = [
    OrderType.LIMIT.value,
    OrderType.LIMIT_MAKER.value,
    OrderType.MARKET.value,
    OrderType.STOP_LOSS.value,
    OrderType.STOP_LOSS_LIMIT.value,
    OrderType.TAKE_PROFIT.value,
    OrderType.TAKE_PROFIT_LIMIT.value,
]


@dataclass(frozen=True, slots=True)
class Market:
    """One spot symbol; ``reference_price`` anchors the simulated price."""

    symbol: str
    base: str
    quote: str
    tick_size: Decimal
    step_size: Decimal
    min_notional: Decimal
    reference_price: Decimal
    min_price: Decimal | None = None
    max_price: Decimal = Decimal(1_000_000)
    min_qty: Decimal | None = None
    max_qty: Decimal = Decimal(9_000_000)
    max_notional: Decimal = Decimal(9_000_000)

    @property
    def lowest_price(self) -> Decimal:
        """Return PRICE_FILTER's minPrice (one tick unless set)."""
        return self.min_price if self.min_price is not None else self.tick_size

    @property
    def lowest_qty(self) -> Decimal:
        """Return LOT_SIZE's minQty (one step unless set)."""
        return self.min_qty if self.min_qty is not None else self.step_size


def _m(  # noqa: PLR0917 - one row of the catalogue table below
    symbol: str, base: str, quote: str, tick: str, step: str, notional: str, ref: str
) -> Market:
    return Market(
        symbol=symbol,
        base=base,
        quote=quote,
        tick_size=Decimal(tick),
        step_size=Decimal(step),
        min_notional=Decimal(notional),
        reference_price=Decimal(ref),
    )


CATALOGUE: tuple[Market, ...] = (
    _m("BTCUSDT", "BTC", "USDT", "0.01", "0.00001", "5", "60000"),
    _m("ETHUSDT", "ETH", "USDT", "0.01", "0.0001", "5", "3000"),
    _m("BNBUSDT", "BNB", "USDT", "0.01", "0.001", "5", "600"),
    _m("SOLUSDT", "SOL", "USDT", "0.01", "0.001", "5", "150"),
    _m("XRPUSDT", "XRP", "USDT", "0.0001", "0.1", "5", "0.6"),
    _m("DOGEUSDT", "DOGE", "USDT", "0.00001", "1", "1", "0.15"),
    _m("ETHBTC", "ETH", "BTC", "0.00001", "0.001", "0.0001", "0.05"),
)


def index(markets: Iterable[Market]) -> Mapping[str, Market]:
    """Return the markets by exchange symbol (``BTCUSDT``), read-only."""
    return MappingProxyType({market.symbol: market for market in markets})


def fmt(value: Decimal) -> str:
    """Render a decimal as Binance does: a string with 8 decimals."""
    return f"{value:.{PRECISION}f}"


def _filters(market: Market) -> list[dict[str, object]]:
    return [
        {
            "filterType": "PRICE_FILTER",
            "minPrice": fmt(market.lowest_price),
            "maxPrice": fmt(market.max_price),
            "tickSize": fmt(market.tick_size),
        },
        {
            "filterType": "LOT_SIZE",
            "minQty": fmt(market.lowest_qty),
            "maxQty": fmt(market.max_qty),
            "stepSize": fmt(market.step_size),
        },
        {
            "filterType": "NOTIONAL",
            "minNotional": fmt(market.min_notional),
            "applyMinToMarket": True,
            "maxNotional": fmt(market.max_notional),
            "applyMaxToMarket": False,
            "avgPriceMins": 5,
        },
    ]


def symbol_info(market: Market) -> dict[str, object]:
    """Return one entry of exchangeInfo's ``symbols``, shaped like Binance's spot answer."""
    return {
        "symbol": market.symbol,
        "status": "TRADING",
        "baseAsset": market.base,
        "baseAssetPrecision": PRECISION,
        "quoteAsset": market.quote,
        "quotePrecision": PRECISION,
        "quoteAssetPrecision": PRECISION,
        "baseCommissionPrecision": PRECISION,
        "quoteCommissionPrecision": PRECISION,
        "orderTypes": ORDER_TYPES,
        "icebergAllowed": False,
        "ocoAllowed": True,
        "otoAllowed": False,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": False,
        "cancelReplaceAllowed": False,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": _filters(market),
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "NONE",
        "allowedSelfTradePreventionModes": ["NONE"],
    }


def _rate_limit(kind: str, interval: str, num: int, limit: int) -> dict[str, object]:
    return {"rateLimitType": kind, "interval": interval, "intervalNum": num, "limit": limit}


def exchange_info(markets: Iterable[Market], server_time_ms: int) -> dict[str, object]:
    """Return the whole ``GET /api/v3/exchangeInfo`` answer."""
    return {
        "timezone": "UTC",
        "serverTime": server_time_ms,
        "rateLimits": [
            _rate_limit("REQUEST_WEIGHT", "MINUTE", 1, 6000),
            _rate_limit("ORDERS", "SECOND", 10, 100),
        ],
        "exchangeFilters": [],
        "symbols": [symbol_info(market) for market in markets],
    }

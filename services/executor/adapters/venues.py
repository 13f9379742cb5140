"""What differs between exchanges, as data: one `Venue` per ccxt exchange id.

Adding an exchange is adding a row, after checking with its testnet that ccxt's unified calls
behave as the row says (only ``binance`` is exercised by the test suite, through the paper
exchange). Paper accounts are a venue behind the same interface: ccxt's own class for the
exchange the paper exchange imitates, pointed at it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from libs.common.messages import AccountMode, ExitKind
from libs.common.records import MarketType


@dataclass(frozen=True, slots=True)
class WeightRule:
    """A venue's request-weight limit for one egress address, and how ccxt's costs map to it."""

    limit: int
    """Weight one address may use per interval."""
    interval_s: float = 60.0
    per_cost: float = 1.0
    """Venue weight per unit of ccxt's ``cost`` (its ``api`` table)."""
    used_header: str | None = None
    """Prefix of the answer header reporting the address's weight used (then the interval)."""
    public_only: bool = False
    """Count only public calls: private ones are limited per account, as ccxt models."""
    keep_client_limiter: bool = False
    """Keep ccxt's per-client limiter (the venue also limits each account)."""


@dataclass(frozen=True, slots=True)
class Protection:
    """What protective orders a venue's market can hold, and how they are placed.

    ``native``: exit kinds placed as the venue's own conditional orders (reduce-only);
    ``conditional_params``: the ccxt params that make a look-up or cancel address a conditional
    order rather than a plain one (Binance USDⓈ-M: the Algo Order service, ``trigger``).
    """

    native: frozenset[ExitKind] = frozenset()
    conditional_params: dict[str, Any] = field(default_factory=dict)
    conditional_id_param: str | None = None
    """The ``fetch_order`` param that finds a conditional order by our client id."""
    oco_method: str | None = None
    """The ccxt method placing a take-profit and a stop-loss as one list (one-cancels-the-
    other), where the venue's market has one (Binance spot: ``orderList/oco``)."""


@dataclass(frozen=True, slots=True)
class Venue:
    """How Sparky drives one exchange's market (spot or USDⓈ-margined perpetuals) through
    ccxt; ``ccxt_id`` is ccxt's class (Binance futures: ``binanceusdm``)."""

    exchange_id: str
    lookup_param: str
    """The ``fetch_order`` param that finds an order by our client order id."""
    create_param: str = "clientOrderId"
    """The ``create_order`` param that sets it (ccxt's unified name by default)."""
    duplicate_markers: tuple[str, ...] = ()
    """Text of the exchange's answer meaning "this client order id exists already"."""
    refused_keys_markers: tuple[str, ...] = ()
    """Text meaning "these keys are refused" whatever class ccxt raised it as."""
    needs_passphrase: bool = False
    has_testnet: bool = True
    paper: bool = False
    """Whether the paper exchange speaks this venue's API."""
    receive_window_s: float = 10.0
    """How long after signing the venue still accepts a request (Binance's ``recvWindow``,
    which ccxt sets to 10 s; OKX's ``expTime``, which Sparky sets to this)."""
    expiry_header: str | None = None
    """The header giving the venue the request's deadline, where that is how it is told."""
    clock_margin_s: float = 5.0
    """Allowance for the difference between our clock and the venue's."""
    options: dict[str, Any] = field(default_factory=dict)
    """ccxt options for every client of this venue."""
    weight: WeightRule | None = None
    """The request-weight limit shared by every client behind one address, if known."""
    market: MarketType = MarketType.SPOT
    ccxt_id: str = ""
    """ccxt's class for this market; the exchange id when empty."""
    paper_urls: dict[str, str] = field(default_factory=dict)
    """``urls['api']`` keys pointed at the paper exchange, as path suffixes of its root."""
    paper_options: dict[str, Any] = field(default_factory=dict)
    """ccxt options that keep a paper client to the subset the paper exchange speaks."""
    paper_error_map: str | None = None
    """ccxt's error map to give a paper client (ccxt picks Binance's futures map by the host
    name ``fapi.binance.com``; without it, -2019/-2021/-2022 would be plain errors)."""
    protection: Protection = field(default_factory=Protection)
    one_way_mode: bool = False
    """Futures: Sparky trades in one-way position mode and sets it before the first order."""
    leverage_reader: str | None = None
    """The ccxt method that reads a symbol's leverage (Binance: v2 positionRisk, which still
    carries it); ccxt's unified ``fetch_leverage`` when None."""

    @property
    def ccxt_class(self) -> str:
        return self.ccxt_id or self.exchange_id

    def settle_after(self, call_bound_s: float) -> float:
        """Return how long after a creation was recorded as sent it can no longer arrive: it
        was signed within ``call_bound_s``, and is refused past the receive window. Only then
        is a look-up that finds nothing proof that the order was not placed.
        """
        return call_bound_s + self.receive_window_s + self.clock_margin_s

    def lookup(self, client_order_id: str) -> dict[str, str]:
        """Return the ``fetch_order`` params that find ``client_order_id``."""
        return {self.lookup_param: client_order_id}

    def create(self, client_order_id: str) -> dict[str, str]:
        """Return the ``create_order`` params that set ``client_order_id``."""
        return {self.create_param: client_order_id}

    def is_duplicate(self, message: str) -> bool:
        """Whether an exchange's refusal says the client order id is taken."""
        return any(marker in message for marker in self.duplicate_markers)

    def refuses_keys(self, message: str) -> bool:
        """Whether an exchange's answer says the API keys are refused."""
        return any(marker in message for marker in self.refused_keys_markers)


VENUES: Final[dict[str, Venue]] = {
    "binance": Venue(
        exchange_id="binance",
        lookup_param="origClientOrderId",
        duplicate_markers=("Duplicate order sent", '"code":-2010,"msg":"Duplicate'),
        # ccxt raises -2015 as DDoSProtection once a client has authenticated before (it
        # guesses a temporary ban); Binance documents it as keys, IP or permissions refused.
        refused_keys_markers=('"code":-2015', "Invalid API-key, IP, or permissions"),
        paper=True,
        receive_window_s=10.0,  # ccxt signs with recvWindow 10 s; Binance refuses older ones
        options={"defaultType": "spot"},
        # Spot REQUEST_WEIGHT: 6,000 per minute per IP. ccxt's spot costs are 0.2 x Binance's
        # weight (order 1, query order 4, openOrders 6 / 80 without symbol, account 20,
        # myTrades 20, exchangeInfo 20, ticker/price 2 / 4); every answer reports the IP's use.
        weight=WeightRule(6000, 60.0, per_cost=5.0, used_header="x-mbx-used-weight-"),
        paper_urls={"public": "/api/v3", "private": "/api/v3"},
        # A take-profit (limit maker) and a stop (stop-loss, or stop-loss-limit) as one OCO
        # sell: the coins are locked once for both, and one filling expires the other.
        protection=Protection(
            native=frozenset({ExitKind.MARKET, ExitKind.LIMIT}),
            oco_method="privatePostOrderListOco",
        ),
        paper_options={
            "fetchCurrencies": False,
            "fetchMargins": False,
            "fetchMarkets": {"types": ["spot"]},
            "defaultType": "spot",
        },
    ),
    "okx": Venue(
        exchange_id="okx",
        lookup_param="clOrdId",
        duplicate_markers=('"sCode":"51016"', "Duplicated client order ID"),
        needs_passphrase=True,
        expiry_header="expTime",  # without it OKX would accept a delayed request any time
        # OKX limits trading and account endpoints per account (ccxt's per-client limiter
        # models them, cost 1 = one request of the 20 per 2 s) and public ones per IP
        # (market data: 20 requests per 2 s); it reports no usage header.
        weight=WeightRule(20, 2.0, public_only=True, keep_client_limiter=True),
    ),
}

_FAPI = {
    f"fapi{kind}{version}": f"/fapi/{version.lower() or 'v1'}"
    for kind in ("Public", "Private")
    for version in ("", "V2", "V3")
}

FUTURES_VENUES: Final[dict[str, Venue]] = {
    # USDⓈ-M perpetuals: ccxt's binanceusdm. Conditional orders (stop, take-profit, trailing)
    # go to Binance's Algo Order service, addressed with ccxt's ``trigger`` param.
    "binance": Venue(
        exchange_id="binance",
        ccxt_id="binanceusdm",
        market=MarketType.FUTURES,
        lookup_param="origClientOrderId",
        duplicate_markers=("Duplicate order sent", '"code":-4116', "ClientOrderId is duplicated"),
        refused_keys_markers=('"code":-2015', "Invalid API-key, IP, or permissions"),
        paper=True,
        receive_window_s=10.0,
        options={"defaultType": "swap"},
        # USDⓈ-M REQUEST_WEIGHT: 2,400 per minute per IP; ccxt's fapi costs are Binance's.
        weight=WeightRule(2400, 60.0, per_cost=1.0, used_header="x-mbx-used-weight-"),
        paper_urls=_FAPI,
        paper_options={
            "fetchCurrencies": False,
            "fetchMargins": False,
            "fetchMarkets": {"types": ["linear"]},
            "defaultType": "swap",
        },
        paper_error_map="linear",
        protection=Protection(
            native=frozenset({ExitKind.MARKET, ExitKind.LIMIT, ExitKind.TRAILING}),
            conditional_params={"trigger": True},
            conditional_id_param="clientAlgoId",
        ),
        one_way_mode=True,
        leverage_reader="fapiPrivateV2GetPositionRisk",
    ),
    "okx": Venue(
        exchange_id="okx",
        market=MarketType.FUTURES,
        lookup_param="clOrdId",
        duplicate_markers=('"sCode":"51016"', "Duplicated client order ID"),
        needs_passphrase=True,
        expiry_header="expTime",
        options={"defaultType": "swap"},
        weight=WeightRule(20, 2.0, public_only=True, keep_client_limiter=True),
        protection=Protection(
            native=frozenset({ExitKind.MARKET, ExitKind.LIMIT}),
            conditional_params={"trigger": True},
            conditional_id_param="clOrdId",
        ),
        one_way_mode=True,
    ),
}


def venue_for(exchange_id: str, market: MarketType = MarketType.SPOT) -> Venue | None:
    """Return the venue of a ccxt exchange id's market, or None when Sparky does not trade it."""
    table = FUTURES_VENUES if market is MarketType.FUTURES else VENUES
    return table.get(exchange_id)


def all_venues() -> list[Venue]:
    """Return every venue, spot and futures."""
    return [*VENUES.values(), *FUTURES_VENUES.values()]


def supports(venue: Venue, mode: AccountMode) -> bool:
    """Whether ``venue`` can be traded in ``mode``."""
    if mode is AccountMode.PAPER:
        return venue.paper
    if mode is AccountMode.TESTNET:
        return venue.has_testnet
    return True


def supported_exchanges(mode: AccountMode, market: MarketType = MarketType.SPOT) -> list[str]:
    """Return the exchange ids an account in ``mode`` trading ``market`` may use, sorted."""
    table = FUTURES_VENUES if market is MarketType.FUTURES else VENUES
    return sorted(v.exchange_id for v in table.values() if supports(v, mode))

"""What differs between exchanges, as data: one `Venue` per ccxt exchange id.

Adding an exchange is adding a row, after checking with its testnet that ccxt's unified calls
behave as the row says (only ``binance`` is exercised by the test suite, through the paper
exchange). Paper accounts are a venue behind the same interface: ccxt's own class for the
exchange the paper exchange imitates, pointed at it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from libs.common.messages import AccountMode


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
class Venue:
    """How Sparky drives one exchange through ccxt."""

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

# The paper exchange speaks Binance's spot REST API; these options keep ccxt to that subset.
PAPER_OPTIONS: Final[dict[str, Any]] = {
    "fetchCurrencies": False,
    "fetchMargins": False,
    "fetchMarkets": {"types": ["spot"]},
    "defaultType": "spot",
}


def venue_for(exchange_id: str) -> Venue | None:
    """Return the venue of a ccxt exchange id, or None when Sparky does not support it."""
    return VENUES.get(exchange_id)


def supports(venue: Venue, mode: AccountMode) -> bool:
    """Whether ``venue`` can be traded in ``mode``."""
    if mode is AccountMode.PAPER:
        return venue.paper
    if mode is AccountMode.TESTNET:
        return venue.has_testnet
    return True


def supported_exchanges(mode: AccountMode) -> list[str]:
    """Return the exchange ids an account in ``mode`` may use, sorted."""
    return sorted(v.exchange_id for v in VENUES.values() if supports(v, mode))

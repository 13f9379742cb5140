"""The futures values: orders, algo (conditional) orders, positions, trades and income rows."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from services.paper.models import ZERO, Side


class FuturesType(StrEnum):
    """Order types of ``/fapi``: the first two go to ``/order``, the rest to ``/algoOrder``."""

    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP = "STOP"
    TAKE_PROFIT = "TAKE_PROFIT"
    STOP_MARKET = "STOP_MARKET"
    TAKE_PROFIT_MARKET = "TAKE_PROFIT_MARKET"
    TRAILING_STOP_MARKET = "TRAILING_STOP_MARKET"


CONDITIONAL_TYPES = frozenset(FuturesType) - {FuturesType.MARKET, FuturesType.LIMIT}
LIMIT_ON_TRIGGER = frozenset({FuturesType.STOP, FuturesType.TAKE_PROFIT})


class FuturesTif(StrEnum):
    """Time in force of a futures limit order (GTX is post-only)."""

    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    GTX = "GTX"


class FuturesStatus(StrEnum):
    """Status of a futures order in the matching engine."""

    NEW = "NEW"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"


class AlgoStatus(StrEnum):
    """Status of an algo order (Binance's Algo Service)."""

    NEW = "NEW"
    CANCELED = "CANCELED"
    TRIGGERED = "TRIGGERED"
    FINISHED = "FINISHED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


class MarginType(StrEnum):
    """How a position is margined."""

    CROSSED = "CROSSED"
    ISOLATED = "ISOLATED"


class IncomeType(StrEnum):
    """Rows of ``GET /fapi/v1/income``."""

    REALIZED_PNL = "REALIZED_PNL"
    COMMISSION = "COMMISSION"
    FUNDING_FEE = "FUNDING_FEE"
    INSURANCE_CLEAR = "INSURANCE_CLEAR"


@dataclass(frozen=True, slots=True)
class NewFuturesOrder:
    """A validated ``POST /fapi/v1/order`` (MARKET or LIMIT), or the order an algo triggers."""

    symbol: str
    side: Side
    type: FuturesType
    client_order_id: str
    quantity: Decimal | None
    price: Decimal | None = None
    time_in_force: FuturesTif = FuturesTif.GTC
    reduce_only: bool = False
    close_position: bool = False


@dataclass(frozen=True, slots=True)
class NewAlgoOrder:
    """A validated ``POST /fapi/v1/algoOrder`` (algoType CONDITIONAL)."""

    symbol: str
    side: Side
    type: FuturesType
    client_algo_id: str
    quantity: Decimal | None
    trigger_price: Decimal | None
    price: Decimal | None
    time_in_force: FuturesTif
    reduce_only: bool
    close_position: bool
    callback_rate: Decimal | None
    activate_price: Decimal | None


@dataclass(frozen=True, slots=True)
class FuturesOrder:
    """An order in the matching engine; ``price`` is zero for market orders."""

    order_id: int
    account_id: int
    symbol: str
    client_order_id: str
    side: Side
    type: FuturesType
    time_in_force: FuturesTif
    price: Decimal
    orig_qty: Decimal
    executed_qty: Decimal
    cum_quote: Decimal
    status: FuturesStatus
    reduce_only: bool
    close_position: bool
    created_ms: int
    updated_ms: int

    @property
    def avg_price(self) -> Decimal:
        """Return the average fill price (zero before any fill)."""
        return self.cum_quote / self.executed_qty if self.executed_qty else ZERO


@dataclass(frozen=True, slots=True)
class AlgoOrder:
    """A conditional order waiting in the Algo Service for its trigger."""

    algo_id: int
    account_id: int
    symbol: str
    client_algo_id: str
    side: Side
    type: FuturesType
    quantity: Decimal
    trigger_price: Decimal
    price: Decimal
    time_in_force: FuturesTif
    reduce_only: bool
    close_position: bool
    callback_rate: Decimal
    activate_price: Decimal
    best_price: Decimal
    """Trailing stops: the best price since activation (zero while not activated)."""
    status: AlgoStatus
    actual_order_id: int
    executed_qty: Decimal
    avg_price: Decimal
    created_ms: int
    updated_ms: int
    trigger_ms: int


@dataclass(frozen=True, slots=True)
class Position:
    """One account's one-way position in one symbol, with its settings."""

    account_id: int
    symbol: str
    amount: Decimal = ZERO
    """Signed: positive long, negative short."""
    entry_price: Decimal = ZERO
    isolated_margin: Decimal = ZERO
    leverage: int = 20
    margin_type: MarginType = MarginType.CROSSED
    updated_ms: int = 0


@dataclass(frozen=True, slots=True)
class FuturesTrade:
    """One execution of a futures order (``userTrades``)."""

    trade_id: int
    order_id: int
    account_id: int
    symbol: str
    side: Side
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    realized_pnl: Decimal
    is_maker: bool
    time_ms: int


@dataclass(frozen=True, slots=True)
class Income:
    """One row of the account's income history."""

    tran_id: int
    account_id: int
    symbol: str
    income_type: IncomeType
    income: Decimal
    time_ms: int
    trade_id: int = 0

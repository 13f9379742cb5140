"""The paper exchange's values: orders, trades, balances, as Binance's spot API names them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

ZERO = Decimal(0)


class Side(StrEnum):
    """Which way an order trades the base asset."""

    BUY = "BUY"
    SELL = "SELL"


class OrderType(StrEnum):
    """The order types the paper exchange lists in exchangeInfo."""

    MARKET = "MARKET"
    LIMIT = "LIMIT"
    LIMIT_MAKER = "LIMIT_MAKER"
    STOP_LOSS = "STOP_LOSS"
    STOP_LOSS_LIMIT = "STOP_LOSS_LIMIT"
    TAKE_PROFIT = "TAKE_PROFIT"
    TAKE_PROFIT_LIMIT = "TAKE_PROFIT_LIMIT"

    @property
    def is_conditional(self) -> bool:
        """Tell whether the order waits for its stop price before it works."""
        return self in _CONDITIONAL

    @property
    def is_stop_loss(self) -> bool:
        """Tell whether it fires against the position (a sell when the price falls)."""
        return self in {OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT}

    @property
    def has_limit_price(self) -> bool:
        """Tell whether the order trades at its own ``price`` (not at the market)."""
        return self in _PRICED


_CONDITIONAL = frozenset(
    {
        OrderType.STOP_LOSS,
        OrderType.STOP_LOSS_LIMIT,
        OrderType.TAKE_PROFIT,
        OrderType.TAKE_PROFIT_LIMIT,
    }
)
_PRICED = frozenset(
    {
        OrderType.LIMIT,
        OrderType.LIMIT_MAKER,
        OrderType.STOP_LOSS_LIMIT,
        OrderType.TAKE_PROFIT_LIMIT,
    }
)


class TimeInForce(StrEnum):
    """How long a limit order lives: resting (GTC) or now-or-never (IOC, FOK)."""

    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class OrderStatus(StrEnum):
    """Binance's order statuses that the paper exchange produces."""

    NEW = "NEW"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"


class RespType(StrEnum):
    """How much of the new order the answer carries (``newOrderRespType``)."""

    ACK = "ACK"
    RESULT = "RESULT"
    FULL = "FULL"


@dataclass(frozen=True, slots=True)
class Balance:
    """One asset of one account: ``free`` to trade, ``locked`` by resting orders."""

    asset: str
    free: Decimal = ZERO
    locked: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class NewOrder:
    """A validated ``POST /api/v3/order``: exactly one of quantity / quote_qty is set."""

    symbol: str
    side: Side
    type: OrderType
    client_order_id: str
    resp_type: RespType
    quantity: Decimal | None = None
    quote_qty: Decimal | None = None
    price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    stop_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of an order against the simulated market."""

    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    is_maker: bool


@dataclass(frozen=True, slots=True)
class Order:
    """An order as stored; ``price`` is zero for market orders, as on Binance.

    ``stop_price`` is zero unless the type is conditional; such an order is not ``working``
    until the price reaches it. ``order_list_id`` is -1 unless the order is a leg of an OCO.
    """

    order_id: int
    account_id: int
    symbol: str
    client_order_id: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    price: Decimal
    orig_qty: Decimal
    orig_quote_qty: Decimal
    executed_qty: Decimal
    cumm_quote_qty: Decimal
    status: OrderStatus
    created_ms: int
    updated_ms: int
    stop_price: Decimal = ZERO
    order_list_id: int = -1
    working: bool = True


class ListStatus(StrEnum):
    """Binance's ``listOrderStatus`` of an order list the paper exchange produces."""

    EXECUTING = "EXECUTING"
    ALL_DONE = "ALL_DONE"


@dataclass(frozen=True, slots=True)
class OrderList:
    """An OCO: two orders of one account and symbol, each cancelling the other."""

    order_list_id: int
    account_id: int
    symbol: str
    list_client_order_id: str
    status: ListStatus
    created_ms: int
    updated_ms: int


@dataclass(frozen=True, slots=True)
class OcoLeg:
    """One leg of a new OCO (``above…`` or ``below…`` parameters)."""

    type: OrderType
    client_order_id: str
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC


@dataclass(frozen=True, slots=True)
class NewOco:
    """A validated ``POST /api/v3/orderList/oco``."""

    symbol: str
    side: Side
    quantity: Decimal
    list_client_order_id: str
    above: OcoLeg
    below: OcoLeg
    resp_type: RespType = RespType.FULL


@dataclass(frozen=True, slots=True)
class Trade:
    """One of an account's executions (``myTrades``); ``trade_id`` is the exchange's id."""

    trade_id: int
    order_id: int
    account_id: int
    symbol: str
    side: Side
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    is_maker: bool
    time_ms: int


@dataclass(frozen=True, slots=True)
class OrderRef:
    """How a caller names an order: by the exchange's id or by its own client id."""

    order_id: int | None = None
    client_order_id: str | None = None

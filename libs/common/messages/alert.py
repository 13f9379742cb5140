"""A TradingView alert after ingress normalised it."""

from __future__ import annotations

from pydantic import Field, model_validator

from libs.common.messages.enums import (
    Action,
    ExitKind,
    MarketPosition,
    OrderType,
    PriceUnit,
    QuantityType,
)
from libs.common.messages.types import (
    Amount,
    FrozenModel,
    PositiveAmount,
    ShortText,
    UtcDatetime,
)


class Instrument(FrozenModel):
    """A ticker as TradingView sent it, and its parts.

    ``BINANCE:BTCUSDT.P`` → ``exchange="BINANCE"``, ``symbol="BTCUSDT"``, ``perpetual=True``.
    ``BTC/USDT`` → ``symbol="BTC/USDT"``, ``base="BTC"``, ``quote="USDT"``. The router maps
    ``symbol`` to the account's ccxt unified symbol.
    """

    raw: str = Field(min_length=1, max_length=64)
    exchange: str | None = Field(default=None, max_length=32)
    symbol: str = Field(min_length=1, max_length=64)
    base: str | None = Field(default=None, max_length=32)
    quote: str | None = Field(default=None, max_length=32)
    perpetual: bool = False


class PriceTarget(FrozenModel):
    """A take-profit or stop-loss: an absolute price, a percentage away from the entry's fill
    price, or an absolute distance from it; how it executes (``kind``) once triggered.

    ``stop_loss: {"stop_price": 59000}`` → ``value=59000, unit=price``;
    ``{"percent": 1}`` → ``value=1, unit=percent``; ``{"amount": 500}`` → 500 below (long) or
    above (short) the fill. A trailing stop's ``value`` is its trail (``percent`` or
    ``amount``); a stop-limit's ``limit_price`` is the limit once triggered.
    """

    value: PositiveAmount
    unit: PriceUnit
    kind: ExitKind = ExitKind.MARKET
    limit_price: PositiveAmount | None = None

    @model_validator(mode="after")
    def _kind_fits(self) -> PriceTarget:
        if self.kind is ExitKind.LIMIT and self.limit_price is None:
            raise ValueError("a stop-limit needs a limit price")
        if self.kind is not ExitKind.LIMIT and self.limit_price is not None:
            raise ValueError("only a stop-limit takes a limit price")
        if self.kind is ExitKind.TRAILING and self.unit is PriceUnit.PRICE:
            raise ValueError("a trailing stop trails by a percent or an amount, not a price")
        return self


class Alert(FrozenModel):
    """The normalised alert: every field the router may act on, and nothing secret.

    The ``passphrase`` a sender may add is checked at ingress and never stored here.
    """

    action: Action
    instrument: Instrument
    account: str | None = Field(default=None, max_length=64)
    quantity: PositiveAmount | None = None
    quantity_type: QuantityType | None = None
    order_type: OrderType = OrderType.MARKET
    price: PositiveAmount | None = None
    take_profit: PriceTarget | None = None
    stop_loss: PriceTarget | None = None
    leverage: PositiveAmount | None = None
    position_size: Amount | None = None
    market_position: MarketPosition | None = None
    sender_id: str | None = Field(default=None, max_length=128)
    client_order_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=36,
        description="cancel: the client order id of the one order to cancel (an earlier "
        "alert's, as the trail shows it); without it a cancel cancels every open order "
        "Sparky placed in the symbol on the account.",
    )
    signal_price: PositiveAmount | None = Field(
        default=None, description="The price when the signal fired (TradersPost's signalPrice)."
    )
    strategy: ShortText | None = None
    comment: ShortText | None = None
    alert_time: UtcDatetime | None = None

    @model_validator(mode="after")
    def _limit_orders_have_a_price(self) -> Alert:
        if self.order_type is OrderType.LIMIT and self.price is None:
            raise ValueError("a limit order needs a price")
        return self

    @property
    def states_position(self) -> bool:
        """Whether the alert says what the strategy's position is after it."""
        return self.position_size is not None or self.market_position is not None

    @property
    def is_target_position(self) -> bool:
        """Whether the alert states only the position to hold (no quantity): the order is
        whatever reaches it. With a quantity too, the quantity is the order and the position
        is TradingView's view to compare with (drift).
        """
        return self.quantity is None and self.states_position

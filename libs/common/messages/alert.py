"""A TradingView alert after ingress normalised it."""

from __future__ import annotations

from pydantic import Field, model_validator

from libs.common.messages.enums import Action, MarketPosition, OrderType, PriceUnit, QuantityType
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
    """A take-profit or stop-loss: an absolute price, or a percentage away from entry."""

    value: PositiveAmount
    unit: PriceUnit


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

"""Commands: one service asks the next to do something."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Discriminator, Field, Tag, TypeAdapter, model_validator

from libs.common.ids import ClientOrderId, IntentId, Ulid
from libs.common.messages.alert import Alert, PriceTarget
from libs.common.messages.base import Message
from libs.common.messages.enums import AccountMode, MarginMode, OrderType, Side, SizingRule
from libs.common.messages.types import Amount, FrozenModel, Label, PositiveAmount, UtcDatetime

RAW_BODY_CAP = 4096


class OrderIntent(Message):
    """Ingress → router: an authenticated alert, stored in JetStream before the 202."""

    intent_id: IntentId
    webhook_id: Ulid
    received_at: UtcDatetime
    source_ip: str | None = Field(default=None, max_length=45)
    alert: Alert
    raw_body: str = Field(
        max_length=RAW_BODY_CAP,
        description="The body as received (capped, passphrase removed), for the audit trail.",
    )
    dedup_key: str = Field(min_length=1, max_length=128)

    @property
    def ordering_key(self) -> str:
        """The market, however the ticker spelled it (``BTC/USDT``, ``btcusdt``: ``BTCUSDT``;
        a perpetual apart): alerts for one market are decided in order, others concurrently.
        Not the account: an alert naming none may reach any of them."""
        instrument = self.alert.instrument
        market = "".join(c for c in instrument.symbol.upper() if c.isascii() and c.isalnum())
        return f"{market}.P" if instrument.perpetual else market

    @model_validator(mode="after")
    def _intent_is_its_own_correlation(self) -> OrderIntent:
        if self.correlation_id != self.intent_id:
            raise ValueError("an intent's correlation_id must be its intent_id")
        return self


class Sizing(FrozenModel):
    """How much to trade; the executor resolves it against live balance, price and position.

    ``value`` is signed only for ``target_position`` (negative = short), positive otherwise.
    """

    rule: SizingRule
    value: Amount

    @model_validator(mode="after")
    def _positive_unless_target(self) -> Sizing:
        if self.rule is not SizingRule.TARGET_POSITION and self.value <= 0:
            raise ValueError(f"a {self.rule.value} size must be positive")
        return self


class OrderSpec(FrozenModel):
    """One order to place, as the router decides it: what to trade, on which account, how much.

    A `PlaceOrder` is an `OrderSpec` with its envelope and ids; the router keeps the specs of
    a decision (in Redis) and publishes each as a `PlaceOrder`. On a futures account
    ``leverage`` and ``margin_mode`` are set on the exchange for the symbol before the order
    (when they differ from what was set); ``take_profit`` and ``stop_loss`` are placed as
    reduce-only protective orders once the order has filled. A leg above 0 of a reverse is
    placed only once leg 0 (the close) has filled.
    """

    leg: int = Field(default=0, ge=0, le=9, description="0, or 0 and 1 for close-then-open.")
    account_label: Label
    exchange_id: str = Field(min_length=1, max_length=32)
    mode: AccountMode
    symbol: str = Field(min_length=1, max_length=64, description="ccxt unified symbol.")
    side: Side
    order_type: OrderType = OrderType.MARKET
    sizing: Sizing
    limit_price: PositiveAmount | None = None
    reduce_only: bool = False
    leverage: PositiveAmount | None = None
    max_leverage: PositiveAmount | None = Field(
        default=None,
        description="With no leverage asked: the plan's or trader's cap, which the symbol's "
        "leverage on the exchange is lowered to if it is above (never raised).",
    )
    margin_mode: MarginMode | None = None
    take_profit: PriceTarget | None = None
    stop_loss: PriceTarget | None = None
    max_base: PositiveAmount | None = Field(
        default=None, description="The tenant's maximum order size in the base currency."
    )
    max_quote: PositiveAmount | None = Field(
        default=None, description="The tenant's maximum order value in the quote currency."
    )
    signal_at: UtcDatetime | None = Field(
        default=None,
        description="When the signal fired: TradingView's time when the alert carried one, "
        "else received_at. None: as received_at.",
    )
    max_signal_age_s: int | None = Field(
        default=None,
        ge=1,
        description="An order older than this (from signal_at) when it is about to be placed "
        "is rejected as stale, not placed late. None: no limit.",
    )
    expected_position: Amount | None = Field(
        default=None,
        description="TradingView's position of the strategy after this alert (signed, base "
        "currency), when the alert said it: the strategy position is compared with it.",
    )
    heal_drift: bool = Field(
        default=False,
        description="Size the order to reach expected_position instead of by its sizing rule.",
    )

    @model_validator(mode="after")
    def _limit_orders_have_a_price(self) -> OrderSpec:
        if self.order_type is OrderType.LIMIT and self.limit_price is None:
            raise ValueError("a limit order needs a limit_price")
        return self


class PlaceOrder(OrderSpec, Message):
    """Router → executor: one order to place on one of the tenant's accounts (an `OrderSpec`
    with its envelope, intent, client order id and the alert's receipt time)."""

    kind: Literal["place"] = "place"
    intent_id: IntentId
    client_order_id: ClientOrderId
    received_at: UtcDatetime = Field(description="When ingress received the alert.")

    @property
    def ordering_key(self) -> str:
        """Orders for one account and market are placed in order (a close after an open, the
        legs of a reverse); a tenant's other accounts and markets proceed concurrently."""
        return f"{self.account_label}/{self.symbol}"

    @model_validator(mode="after")
    def _correlated_with_its_intent(self) -> PlaceOrder:
        if self.correlation_id != self.intent_id:
            raise ValueError("an order's correlation_id must be its intent_id")
        return self


class CancelOrders(Message):
    """Router (a ``cancel`` alert) or ledger API (``DELETE`` of an open order) → executor.

    Cancels one order by its client order id, or, without one, every open order Sparky placed
    in ``symbol`` on the account (protective orders included); orders placed outside Sparky
    are never touched. Each canceled order is reported as ``order.canceled``; a cancel that
    finds nothing to cancel is reported as ``intent.rejected`` (``unknown_order``).
    """

    kind: Literal["cancel"] = "cancel"
    intent_id: IntentId = Field(description="The cancel alert's intent, or a new id (API).")
    account_label: Label
    exchange_id: str = Field(min_length=1, max_length=32)
    mode: AccountMode
    symbol: str = Field(min_length=1, max_length=64, description="ccxt unified symbol.")
    client_order_id: ClientOrderId | None = None
    received_at: UtcDatetime

    @property
    def ordering_key(self) -> str:
        """After the orders of the same account and market that came before it."""
        return f"{self.account_label}/{self.symbol}"

    @model_validator(mode="after")
    def _intent_is_its_correlation(self) -> CancelOrders:
        if self.correlation_id != self.intent_id:
            raise ValueError("a cancel's correlation_id must be its intent_id")
        return self


def _command_kind(value: object) -> str:
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    return str(kind) if kind is not None else "place"  # older routers sent no kind


OrderCommand = Annotated[
    Annotated[PlaceOrder, Tag("place")] | Annotated[CancelOrders, Tag("cancel")],
    Discriminator(_command_kind),
]
_COMMAND_ADAPTER: TypeAdapter[OrderCommand] = TypeAdapter(OrderCommand)


def decode_command(payload: bytes | str) -> PlaceOrder | CancelOrders:
    """Parse a message of the ORDERS stream; raises `pydantic.ValidationError` when bad."""
    return _COMMAND_ADAPTER.validate_json(payload)

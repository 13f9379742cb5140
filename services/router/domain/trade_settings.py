"""Trade settings: what a trader configures, in three layers that override each other.

A layer (tenant-wide defaults, one exchange account, one symbol of one account) sets some
fields and leaves the others ``None``, which means "inherit from the layer above". Merging the
layers of one (account, symbol) gives the `EffectiveSettings` a decision uses.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator, model_validator

from libs.common.messages import DriftPolicy, MarginMode, QuantityType
from libs.common.messages.types import AsciiNumber, FrozenModel, Label, PositiveAmount, Text

SYMBOL_PATTERN = r"^[A-Za-z0-9._:/!-]{1,64}$"
MAX_LIST = 500
MAX_PAUSED = 100
DEFAULT_MAX_SIGNAL_AGE_S = 120


class Scope(StrEnum):
    """Which layer a settings document belongs to."""

    TENANT = "tenant"
    ACCOUNT = "account"
    SYMBOL = "symbol"


class Directions(StrEnum):
    """Which positions a futures account may open; spot accounts are long only anyway."""

    LONG_ONLY = "long_only"
    SHORT_ONLY = "short_only"
    BOTH = "both"


class OppositeSignal(StrEnum):
    """What a buy while short (or a sell while long) does."""

    REVERSE = "reverse"
    CLOSE_ONLY = "close_only"
    IGNORE = "ignore"


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


WEEKDAYS = tuple(Weekday)


def _naive(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("give the time without a time zone: windows are in UTC")
    return value


UtcTime = Annotated[time, AfterValidator(_naive)]
Symbol = Annotated[str, Field(pattern=SYMBOL_PATTERN), AfterValidator(str.upper)]
Percent = Annotated[Decimal, AsciiNumber, Field(allow_inf_nan=False, gt=0, le=1000)]
Leverage = Annotated[Decimal, AsciiNumber, Field(allow_inf_nan=False, ge=1, le=200)]
# As long as an alert's ``strategy`` may be, so that every strategy can be paused.
StrategyName = Annotated[Text, Field(min_length=1, max_length=500)]


class TradingWindow(FrozenModel):
    """Trading allowed from ``start`` on each of ``days`` until ``end`` (UTC).

    ``end`` at or before ``start`` runs past midnight into the next day (22:00-06:00).
    """

    days: tuple[Weekday, ...] = Field(min_length=1, max_length=7)
    start: UtcTime
    end: UtcTime

    def contains(self, now: datetime) -> bool:
        """Whether ``now`` (aware, any zone) falls in this window."""
        t = now.time().replace(tzinfo=None)
        today = WEEKDAYS[now.weekday()] in self.days
        if self.start < self.end:
            return today and self.start <= t < self.end
        yesterday = WEEKDAYS[(now - timedelta(days=1)).weekday()] in self.days
        return (today and t >= self.start) or (yesterday and t < self.end)


class TradeSettingsLayer(FrozenModel):
    """One layer of settings; ``None`` inherits the value of the layer above."""

    enabled: bool | None = Field(
        default=None, description="Kill switch: false stops every order of this scope."
    )
    default_account: Label | None = Field(default=None, description="Tenant layer only.")
    quantity: PositiveAmount | None = Field(
        default=None, description="Default order size when the alert gives none, in quantity_type."
    )
    quantity_type: QuantityType | None = Field(
        default=None, description="What quantity means. Default base."
    )
    max_order_base: PositiveAmount | None = Field(
        default=None, description="Largest opening order, in the base asset. Default unlimited."
    )
    max_order_quote: PositiveAmount | None = Field(
        default=None, description="Largest opening order, in the quote asset. Default unlimited."
    )
    leverage: Leverage | None = Field(
        default=None,
        description="Leverage of futures opening orders (1-200; spot orders are never "
        "leveraged). Default: the exchange's.",
    )
    max_leverage: Leverage | None = Field(
        default=None,
        description="The highest leverage a futures opening order may use (the plan's cap, "
        "if lower, wins).",
    )
    margin_mode: MarginMode | None = Field(
        default=None, description="Margin mode of futures opening orders. Default: the exchange's."
    )
    directions: Directions | None = Field(
        default=None, description="Which positions a futures account may open. Default both."
    )
    opposite_signal: OppositeSignal | None = Field(
        default=None,
        description="What a buy while short or a sell while long does. Default reverse.",
    )
    allowed_symbols: tuple[Symbol, ...] | None = Field(
        default=None,
        max_length=MAX_LIST,
        description="Only these symbols trade (TradingView tickers or ccxt symbols, any case). "
        "Default: all.",
    )
    blocked_symbols: tuple[Symbol, ...] | None = Field(
        default=None, max_length=MAX_LIST, description="These symbols never trade."
    )
    ccxt_symbol: str | None = Field(
        default=None,
        description="Symbol layer only: the exchange's symbol for it (XAU/USDT:USDT). "
        "Default: mapped automatically.",
        pattern=r"^[A-Za-z0-9._-]+/[A-Za-z0-9._-]+(:[A-Za-z0-9._-]+)?$",
    )
    take_profit_percent: Percent | None = Field(
        default=None,
        description="Default take-profit of opening orders, percent from the fill (the "
        "alert's own wins).",
    )
    stop_loss_percent: (
        Annotated[Decimal, AsciiNumber, Field(allow_inf_nan=False, gt=0, lt=100)] | None
    ) = Field(
        default=None,
        description="Default stop-loss of opening orders, percent from the fill (the "
        "alert's own wins).",
    )
    trading_windows: tuple[TradingWindow, ...] | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        description="When orders may be placed (UTC); an end at or before the start runs "
        "past midnight. Default: any time.",
    )
    max_open_positions: int | None = Field(
        default=None,
        ge=0,
        le=10_000,
        description="Open positions on the account at most (not on a symbol layer).",
    )
    max_orders_per_day: int | None = Field(
        default=None,
        ge=0,
        le=1_000_000,
        description="Tenant layer only: your own daily cap, below the plan's.",
    )
    max_signal_age_s: int | None = Field(
        default=None,
        strict=True,  # seconds: `false` or "120" is a mistake, not a number
        ge=0,
        le=86_400,
        description="An order whose alert fired longer ago than this when it is about to be "
        "placed (after an outage) is refused as stale; 0 turns the check off. Default 120.",
    )
    position_drift: DriftPolicy | None = Field(
        default=None,
        description="When TradingView's position of the strategy (position_size) differs "
        "from Sparky's: report it (default), or heal it by sizing orders to reach it.",
    )
    paused_strategies: tuple[StrategyName, ...] | None = Field(
        default=None,
        max_length=MAX_PAUSED,
        description="Tenant layer only. Alerts whose strategy is one of these (exact name) "
        "place no order, entries and exits alike (a cancel still goes through), like the "
        "kill switch for one strategy.",
    )

    @field_validator("allowed_symbols")
    @classmethod
    def _allowlist_not_empty(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and not value:
            raise ValueError("an empty allowlist would block every symbol; use enabled=false")
        return value

    @model_validator(mode="after")
    def _percent_quantities_are_percentages(self) -> TradeSettingsLayer:
        percent = (QuantityType.PERCENT_EQUITY, QuantityType.PERCENT_POSITION)
        if self.quantity_type in percent and self.quantity is not None and self.quantity > 100:
            raise ValueError("a percentage quantity must be at most 100")
        return self

    def scope_errors(self, scope: Scope) -> list[str]:
        """Return why this layer cannot be stored at ``scope`` (fields that belong elsewhere)."""
        errors = []
        if scope is not Scope.TENANT and self.default_account is not None:
            errors.append("default_account can only be set on the tenant-wide settings")
        if scope is not Scope.SYMBOL and self.ccxt_symbol is not None:
            errors.append("ccxt_symbol can only be set on a symbol's settings")
        if scope is Scope.SYMBOL and self.max_open_positions is not None:
            errors.append("max_open_positions applies to an account, not to one symbol")
        if scope is not Scope.TENANT and self.max_orders_per_day is not None:
            errors.append("max_orders_per_day counts all your orders: set it tenant-wide")
        if scope is not Scope.TENANT and self.paused_strategies is not None:
            errors.append("paused_strategies can only be set on the tenant-wide settings")
        return errors


class EffectiveSettings(FrozenModel):
    """The merged settings for one (account, symbol), with the built-in defaults."""

    enabled: bool = True
    disabled_by: Scope | None = None
    default_account: str | None = None
    quantity: Decimal | None = None
    quantity_type: QuantityType = QuantityType.BASE
    max_order_base: Decimal | None = None
    max_order_quote: Decimal | None = None
    leverage: Decimal | None = None
    max_leverage: Decimal | None = None
    margin_mode: MarginMode | None = None
    directions: Directions = Directions.BOTH
    opposite_signal: OppositeSignal = OppositeSignal.REVERSE
    allowed_symbols: tuple[str, ...] | None = None
    blocked_symbols: tuple[str, ...] = ()
    ccxt_symbol: str | None = None
    take_profit_percent: Decimal | None = None
    stop_loss_percent: Decimal | None = None
    trading_windows: tuple[TradingWindow, ...] | None = None
    max_open_positions: int | None = None
    max_orders_per_day: int | None = None
    max_signal_age_s: int = DEFAULT_MAX_SIGNAL_AGE_S
    position_drift: DriftPolicy = DriftPolicy.REPORT
    paused_strategies: tuple[str, ...] = ()

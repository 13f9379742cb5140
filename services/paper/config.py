"""Settings of the paper exchange (``SPARKY_PAPER_…``, falling back to ``SPARKY_…``)."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from libs.common.config import ServiceSettings

DEV_ADMIN_TOKEN = "sop_paper-dev-admin-token-change-me"  # noqa: S105 - refused in prod


class PriceFeedKind(StrEnum):
    """Where unpinned prices come from."""

    RANDOM_WALK = "random_walk"
    FIXED = "fixed"


class PaperSettings(ServiceSettings):
    """Everything the paper exchange reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="SPARKY_PAPER_", extra="ignore", frozen=True)

    http_port: int = Field(default=8106, ge=0, le=65535)
    state_path: Path = Field(
        default=Path(".devstack/paper.sqlite3"),
        description="SQLite file holding accounts, balances, orders and trades.",
    )
    admin_token: SecretStr = Field(
        default=SecretStr(DEV_ADMIN_TOKEN),
        description="Bearer token of the /admin API (refused as default in prod).",
    )
    price_source: str = Field(
        default="synthetic",
        pattern=r"^(synthetic|ccxt:[a-z][a-z0-9_]{0,31})$",
        description="synthetic (price_feed: the random walk or fixed) or ccxt:<exchange id> "
        "(e.g. ccxt:binance): prices follow that venue's public tickers, read through ccxt; a "
        "market it does not list follows price_feed.",
    )
    price_source_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s]+$",
        description="Replaces the root of the venue's public REST API (Binance: "
        "https://api.binance.com/api/v3), e.g. another paper exchange in tests.",
    )
    price_source_interval_s: float = Field(
        default=2.0, ge=0.1, le=3600, description="How often the venue's tickers are read."
    )
    price_feed: PriceFeedKind = PriceFeedKind.RANDOM_WALK
    price_seed: str = Field(default="sparky", description="Seed of the random walk.")
    price_bucket_ms: int = Field(default=1000, ge=1, description="How long a price holds.")
    price_volatility: Decimal = Field(
        default=Decimal("0.0005"), ge=0, le=Decimal("0.05"), description="Move per bucket."
    )
    prices: dict[str, Decimal] = Field(
        default_factory=dict,
        description='Pinned prices, e.g. {"BTCUSDT": "50000"}: they override the feed.',
    )
    taker_fee: Decimal = Field(default=Decimal("0.001"), ge=0, lt=1)
    maker_fee: Decimal = Field(default=Decimal("0.001"), ge=0, lt=1)
    slippage_bps: Decimal = Field(default=Decimal(0), ge=0, le=1000)
    match_interval_s: float = Field(
        default=1.0, gt=0, description="How often resting limit orders are checked."
    )
    max_recv_window_ms: int = Field(default=60_000, ge=1)
    plain_order_route: bool = Field(
        default=True,
        description="Serve /api/v3/order without FastAPI's dependency layers (off: through "
        "FastAPI, to compare the two).",
    )
    weight_limit: int | None = Field(
        default=None,
        ge=1,
        description="Request weight one client address may use per interval, as Binance's "
        "6000 a minute; unset: counted and reported, never refused.",
    )
    weight_interval_s: int = Field(default=60, ge=1, description="The weight window (s).")
    weight_ban_s: int = Field(default=120, ge=1, description="How long a 418 ban lasts.")
    weight_ban_strikes: int = Field(
        default=3, ge=0, description="Requests tolerated after a 429 before the address is banned."
    )
    futures_taker_fee: Decimal = Field(default=Decimal("0.0005"), ge=0, lt=1)
    futures_maker_fee: Decimal = Field(default=Decimal("0.0002"), ge=0, lt=1)
    futures_default_leverage: int = Field(default=20, ge=1, le=125)
    futures_max_leverage: int = Field(default=125, ge=1, le=125)
    maintenance_margin_rate: Decimal = Field(
        default=Decimal("0.004"), gt=0, lt=1, description="Of the notional; below it, liquidation."
    )
    funding_rate: Decimal = Field(
        default=Decimal("0.0001"), ge=-1, le=1, description="Paid by longs to shorts when positive."
    )
    funding_interval_s: float = Field(
        default=28_800, gt=0, description="Time between funding payments (Binance: 8 hours)."
    )
    futures_wallet_default: Decimal = Field(
        default=Decimal(0),
        ge=0,
        description="USDT futures wallet of a new account created without one.",
    )
    access_log: bool = True
    trace_requests: bool = Field(
        default=False,
        description="Trace each request. Off by default: ccxt sends no trace context, so "
        "every span would be a lone root, and tracing doubles the CPU cost of an order.",
    )

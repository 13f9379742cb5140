"""The exchange-accounts API's request and response bodies. Keys go in, never come out."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from libs.common.messages import AccountMode
from libs.common.messages.types import AsciiNumber, SecretText
from libs.common.records import AccountStatus, MarketType
from services.executor.adapters.credentials import Credentials
from services.executor.domain import Account

# Any printable text but '/' (it is a path segment): the common text rule, and no slash.
LABEL_PATTERN = r"^[^/\x00-\x1f\x7f-\x9f]{1,64}$"
EXCHANGE_ID_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
Key = Annotated[SecretText, Field(min_length=8, max_length=512)]


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


ExchangeId = Annotated[
    str,
    BeforeValidator(_lower),
    Field(pattern=EXCHANGE_ID_PATTERN, description="ccxt id, e.g. binance (case ignored)."),
]


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AccountKeys(_Body):
    """API keys as the exchange issued them."""

    api_key: Key
    secret: Key
    passphrase: SecretText | None = Field(default=None, max_length=512)

    def credentials(self) -> Credentials:
        passphrase = self.passphrase.get_secret_value() if self.passphrase else None
        return Credentials(
            api_key=self.api_key.get_secret_value().strip(),
            secret=self.secret.get_secret_value().strip(),
            passphrase=passphrase or None,
        )


class NewAccountBody(AccountKeys):
    """Add an account: its label (what alerts name), exchange, mode and keys."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "label": "main",
                    "exchange_id": "binance",
                    "mode": "testnet",
                    "market_type": "spot",
                    "api_key": "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
                    "secret": "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
                    "validate": False,
                }
            ]
        }
    )

    label: str = Field(pattern=LABEL_PATTERN, description="Any text up to 64 characters, no '/'.")
    exchange_id: ExchangeId
    mode: AccountMode
    market_type: MarketType = MarketType.SPOT
    validate_keys: bool = Field(
        default=True, alias="validate", description="Check the keys with the exchange now."
    )


PAPER_ASSET_PATTERN = r"^[A-Z0-9]{1,20}$"
PAPER_MAX_ASSETS = 10
PAPER_MAX_AMOUNT = Decimal(1_000_000)
PAPER_DEFAULT_BALANCES = {"USDT": Decimal(10_000)}
PaperAsset = Annotated[str, StringConstraints(pattern=PAPER_ASSET_PATTERN)]
PaperAmount = Annotated[
    Decimal,
    AsciiNumber,
    Field(ge=0, le=PAPER_MAX_AMOUNT, max_digits=16, decimal_places=8, allow_inf_nan=False),
]


class NewPaperAccountBody(_Body):
    """Open a paper account: Sparky opens it on its paper exchange and keeps its keys."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"label": "paper-futures", "market_type": "futures", "balances": {"USDT": "10000"}}
            ]
        }
    )

    label: str = Field(pattern=LABEL_PATTERN, description="Any text up to 64 characters, no '/'.")
    market_type: MarketType = MarketType.SPOT
    balances: dict[PaperAsset, PaperAmount] = Field(
        default_factory=lambda: dict(PAPER_DEFAULT_BALANCES),
        min_length=1,
        max_length=PAPER_MAX_ASSETS,
        description="Starting balances by asset (upper case, e.g. USDT), each at most "
        "1,000,000 with up to 8 decimals; default 10,000 USDT. A futures account's wallet is "
        "its USDT.",
    )


class KeysUpdateBody(AccountKeys):
    """Replace an account's keys."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "api_key": "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
                    "secret": "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
                    "validate": True,
                }
            ]
        }
    )

    validate_keys: bool = Field(default=True, alias="validate")


class AccountView(_Body):
    """An account as the tenant sees it; never any key."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "label": "main",
                    "exchange_id": "binance",
                    "mode": "testnet",
                    "market_type": "spot",
                    "status": "valid",
                    "status_message": None,
                    "validated_at": "2026-12-05T20:00:00Z",
                    "created_at": "2026-12-05T20:00:00Z",
                    "updated_at": "2026-12-05T20:00:00Z",
                }
            ]
        }
    )

    label: str
    exchange_id: str
    mode: AccountMode
    market_type: MarketType
    status: AccountStatus
    status_message: str | None
    validated_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, account: Account) -> AccountView:
        return cls(
            label=account.label,
            exchange_id=account.exchange_id,
            mode=account.mode,
            market_type=account.market_type,
            status=account.status,
            status_message=account.status_message,
            validated_at=account.validated_at,
            created_at=account.created_at,
            updated_at=account.updated_at,
        )


class AccountList(_Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "accounts": [
                        {
                            "label": "main",
                            "exchange_id": "binance",
                            "mode": "testnet",
                            "market_type": "spot",
                            "status": "valid",
                            "status_message": None,
                            "validated_at": "2026-12-05T20:00:00Z",
                            "created_at": "2026-12-05T20:00:00Z",
                            "updated_at": "2026-12-05T20:00:00Z",
                        },
                        {
                            "label": "paper-futures",
                            "exchange_id": "binanceusdm",
                            "mode": "paper",
                            "market_type": "futures",
                            "status": "valid",
                            "status_message": None,
                            "validated_at": "2026-12-05T20:00:00Z",
                            "created_at": "2026-12-05T20:00:00Z",
                            "updated_at": "2026-12-05T20:00:00Z",
                        },
                    ]
                }
            ]
        }
    )
    accounts: list[AccountView]

"""Values of the config-plane KV buckets; billing writes them, every other service reads them.

Keys: ``tenants`` by tenant id; ``webhook-tokens`` and ``api-keys`` by the SHA-256 (hex) of
the secret, so the secret itself is stored nowhere; ``accounts`` (written by the executor, read
by the router) by ``account_key(tenant_id, label)``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field

from libs.common.ids import TenantId, Ulid
from libs.common.messages.enums import AccountMode
from libs.common.messages.types import FrozenModel, Label, UtcDatetime
from libs.common.passphrases import checked_form

PassphraseHash = Annotated[str, Field(max_length=200), AfterValidator(checked_form)]
"""A salted scrypt hash of a webhook passphrase (`libs.common.passphrases`)."""


def secret_digest(secret: str) -> str:
    """Return the SHA-256 hex digest under which a token or API key is stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class TenantStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class PlanLimits(FrozenModel):
    """What a tenant may do; ``None`` means unlimited."""

    live_trading: bool
    max_exchange_accounts: int | None = Field(ge=0)
    max_webhooks: int | None = Field(ge=0)
    max_alerts_per_hour: int | None = Field(ge=0)
    max_orders_per_day: int | None = Field(ge=0)
    max_leverage: int | None = Field(
        default=None,
        ge=1,
        le=125,
        description="The highest leverage a futures order may use; None: the venue's own cap.",
    )


class TenantRecord(FrozenModel):
    """A tenant's status and the limits of its plan in force (grace periods already applied)."""

    tenant_id: TenantId
    status: TenantStatus
    plan: str = Field(min_length=1, max_length=32)
    limits: PlanLimits
    updated_at: UtcDatetime

    @property
    def active(self) -> bool:
        return self.status is TenantStatus.ACTIVE


class CredentialStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class WebhookTokenRecord(FrozenModel):
    """A webhook: whose it is, where it may be called from, and whether it works."""

    tenant_id: TenantId
    webhook_id: Ulid
    label: Label
    status: CredentialStatus = CredentialStatus.ACTIVE
    allowed_ips: tuple[str, ...] = Field(default=(), description="CIDRs; empty allows any.")
    passphrase_hash: PassphraseHash | None = Field(
        default=None, description="If set, alerts must carry the passphrase it was made from."
    )
    passphrase_sha256: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="Deprecated: the unsalted digest a billing before migration 0003 published; "
        "read only while a rollout replaces it with `passphrase_hash`.",
    )
    expires_at: UtcDatetime | None = Field(
        default=None, description="Set on the old token while a rotation's grace period runs."
    )

    def usable_at(self, now: datetime) -> bool:
        """Whether the token authenticates at ``now`` (active and not past its grace period)."""
        expired = self.expires_at is not None and now >= self.expires_at
        return self.status is CredentialStatus.ACTIVE and not expired


class ApiKeyRecord(FrozenModel):
    """A tenant API key."""

    tenant_id: TenantId
    key_id: Ulid
    label: Label = "default"
    status: CredentialStatus = CredentialStatus.ACTIVE
    expires_at: UtcDatetime | None = None

    def usable_at(self, now: datetime) -> bool:
        """Whether the key authenticates at ``now``."""
        expired = self.expires_at is not None and now >= self.expires_at
        return self.status is CredentialStatus.ACTIVE and not expired


class MarketType(StrEnum):
    """What an account trades: spot, or perpetual/delivery contracts (``BTC/USDT:USDT``)."""

    SPOT = "spot"
    FUTURES = "futures"


class AccountStatus(StrEnum):
    UNVALIDATED = "unvalidated"
    VALID = "valid"
    INVALID = "invalid"


class AccountRecord(FrozenModel):
    """A tenant's exchange account as the router needs it: never any key material."""

    tenant_id: TenantId
    label: Label
    exchange_id: str = Field(min_length=1, max_length=32, description="ccxt exchange id")
    mode: AccountMode
    market_type: MarketType = MarketType.SPOT
    status: AccountStatus = AccountStatus.UNVALIDATED
    updated_at: UtcDatetime


def account_key(tenant_id: str, label: str) -> str:
    """Return the ``accounts`` bucket key of one account (labels are hex-encoded: any text)."""
    return f"{tenant_id}.{label.encode('utf-8').hex()}"

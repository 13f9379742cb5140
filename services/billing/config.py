"""Billing's settings: ``SPARKY_BILLING_…`` first, then the shared ``SPARKY_…``."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from libs.common.config import Environment, ServiceSettings
from libs.common.db import SCHEMA_PATTERN, DatabaseSettings
from libs.common.db_roles import PrefixedRoles
from libs.common.errors import ConfigurationError
from libs.common.redaction import OPERATOR_TOKEN_PREFIX, SIGNUP_TOKEN_PREFIX

# A development default: ServiceSettings refuses it when SPARKY_ENVIRONMENT=prod.
DEV_OPERATOR_TOKEN = "sop_development-only-operator-token"  # noqa: S105
DEV_SIGNUP_TOKEN = "ssu_development-only-signup-token"  # noqa: S105


class DeletedTenantData(StrEnum):
    """What happens to a deleted tenant's rows in billing's schema."""

    KEEP = "keep"
    PURGE = "purge"


class BillingSettings(ServiceSettings, DatabaseSettings, PrefixedRoles):
    """Everything billing reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="SPARKY_BILLING_", extra="ignore", frozen=True)
    ROLE_SERVICE = "billing"

    http_port: int = Field(default=8101, ge=0, le=65535)
    database_schema: str = Field(default="billing", pattern=SCHEMA_PATTERN)
    writer_role: str = Field(
        pattern=SCHEMA_PATTERN,
        description="Role every connection switches to: reads and writes billing's tables, "
        "owns none of them; unset: <prefix>_billing_writer.",
    )
    operator_token: SecretStr = SecretStr(DEV_OPERATOR_TOKEN)
    signup_token: SecretStr | None = Field(
        default=None,
        description="The web app's credential for POST /api/v1/signups and nothing else "
        "(prefix ssu_); unset: a development token outside prod, sign-up closed in prod.",
    )
    signup_plan: str = Field(default="free", description="The plan a signed-up tenant starts on.")
    public_base_url: str = Field(
        default="http://127.0.0.1:8102",
        description="Where TradingView reaches ingress; webhook URLs are built on it.",
    )
    default_plan: str = "free"
    fallback_plan: str = Field(
        default="free", description="Whose limits apply once a failed payment's grace ends."
    )
    payment_grace_days: float = Field(default=7.0, ge=0)
    grace_ending_notice_hours: float = Field(
        default=24.0,
        gt=0,
        description="How long before a grace period ends billing.grace_ending is published.",
    )
    deleted_tenant_data: DeletedTenantData = DeletedTenantData.KEEP
    max_api_keys_per_tenant: int = Field(default=10, ge=1)
    maintenance_interval_s: float = Field(default=5.0, gt=0)
    reconcile_interval_s: float = Field(default=60.0, gt=0)
    kv_timeout_s: float = Field(default=2.0, gt=0)
    usage_batch_size: int = Field(default=200, ge=1, le=1000)
    usage_batch_wait_s: float = Field(
        default=0.2, gt=0, description="How long a batch of events may wait to fill up."
    )
    stripe_api_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    stripe_api_base: str | None = Field(
        default=None, description="Stripe's API address; tests point it at a local fake."
    )
    stripe_tolerance_s: int = Field(default=300, ge=1)
    stripe_prices: dict[str, str] = Field(
        default_factory=dict, description="Stripe price id → plan name (JSON in the env)."
    )
    stripe_success_url: str = "http://127.0.0.1:8101/billing/checkout/done"
    stripe_cancel_url: str = "http://127.0.0.1:8101/billing/checkout/canceled"
    stripe_portal_return_url: str = "http://127.0.0.1:8101/billing/portal/done"

    @field_validator("operator_token")
    @classmethod
    def _operator_token_is_recognisable(cls, value: SecretStr) -> SecretStr:
        secret = value.get_secret_value()
        if not secret.startswith(OPERATOR_TOKEN_PREFIX) or len(secret) < 24:
            raise ValueError(
                f"the operator token must start with {OPERATOR_TOKEN_PREFIX!r} and be at least "
                "24 characters long, so that logs can recognise and hide it"
            )
        return value

    @field_validator("signup_token")
    @classmethod
    def _signup_token_is_recognisable(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        secret = value.get_secret_value()
        if not secret.startswith(SIGNUP_TOKEN_PREFIX) or len(secret) < 24:
            raise ValueError(
                f"the sign-up token must start with {SIGNUP_TOKEN_PREFIX!r} and be at least "
                "24 characters long, so that logs can recognise and hide it"
            )
        return value

    @field_validator("public_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _signup_token_in_development(self) -> BillingSettings:
        # Sign-up works out of the box in development; production opens it only with a token
        # of its own, and a development token given explicitly is refused there.
        if self.environment is Environment.PROD:
            token = self.signup_token
            if token is not None and token.get_secret_value() == DEV_SIGNUP_TOKEN:
                raise ConfigurationError(
                    "signup_token still has its development value; set a real secret in production"
                )
        elif self.signup_token is None:
            object.__setattr__(self, "signup_token", SecretStr(DEV_SIGNUP_TOKEN))
        return self

    @property
    def payment_grace_s(self) -> float:
        return self.payment_grace_days * 86_400.0

    def price_for(self, plan: str) -> str | None:
        """Return the Stripe price that sells ``plan`` (the first by id if several do)."""
        prices = sorted(price for price, name in self.stripe_prices.items() if name == plan)
        return prices[0] if prices else None

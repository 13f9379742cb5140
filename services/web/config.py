"""The web app's settings: ``SPARKY_WEB_…`` first, then the shared ``SPARKY_…``."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from libs.common.config import Environment, ServiceSettings, load_settings
from libs.common.db import SCHEMA_PATTERN, DatabaseSettings
from libs.common.db_roles import PrefixedRoles
from libs.common.errors import ConfigurationError
from libs.common.redaction import SIGNUP_TOKEN_PREFIX
from libs.common.sealing import check_data_key
from libs.common.smtp import SmtpSettings
from services.web.auth.addresses import parse_networks

SERVICE = "web"
# Development defaults: ServiceSettings refuses them when SPARKY_ENVIRONMENT=prod.
DEV_SIGNUP_TOKEN = "ssu_development-only-signup-token"  # noqa: S105
DEV_DATA_KEY = "development-only-web-data-key-not-a-secret"


class WebSettings(ServiceSettings, DatabaseSettings, PrefixedRoles, SmtpSettings):
    """Everything the web app reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="SPARKY_WEB_", extra="ignore", frozen=True)
    ROLE_SERVICE = SERVICE

    http_port: int = Field(default=8108, ge=0, le=65535)
    database_schema: str = Field(default=SERVICE, pattern=SCHEMA_PATTERN)
    writer_role: str = Field(
        pattern=SCHEMA_PATTERN,
        description="Role every connection switches to: reads and writes the web app's tables "
        "under RLS, owns none of them; unset: <prefix>_web_writer.",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8108",
        description="Where browsers reach this app; links in mails are built on it.",
    )
    webhook_base_url: str = Field(
        default="http://127.0.0.1:8102",
        description="Where TradingView reaches ingress: a webhook URL is this + "
        "/webhooks/tv/<token>.",
    )
    billing_url: str = "http://127.0.0.1:8101"
    router_url: str = "http://127.0.0.1:8103"
    ledger_url: str = "http://127.0.0.1:8105"
    accounts_url: str = Field(
        default="http://127.0.0.1:8107", description="The executor's accounts API."
    )
    ingress_url: str = Field(
        default="http://127.0.0.1:8102",
        description="Ingress's internal URL (test alerts are sent through it).",
    )
    notifier_url: str = Field(
        default="http://127.0.0.1:8109",
        description="The notifier's API (the notifications page's channels).",
    )
    api_timeout_s: float = Field(default=10.0, gt=0, le=120)
    signup_token: SecretStr = Field(
        default=SecretStr(DEV_SIGNUP_TOKEN),
        description="Billing's sign-up credential (SPARKY_BILLING_SIGNUP_TOKEN), prefix ssu_.",
    )
    data_key: SecretStr = Field(
        default=SecretStr(DEV_DATA_KEY),
        description="Encrypts the stored tenant API keys, webhook tokens and TOTP secrets "
        "(AES-256-GCM under a key derived from it) and signs CSRF tokens; at least 32 "
        "characters.",
    )
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=8025, ge=1, le=65535)
    cookie_secure: bool = Field(
        default=False,
        description="Send cookies over HTTPS only and add HSTS; required in production.",
    )
    session_days: float = Field(default=14.0, gt=0, le=90, description="A session's lifetime.")
    session_idle_hours: float = Field(
        default=72.0, gt=0, le=24 * 90, description="A session unused this long ends."
    )
    verify_token_hours: float = Field(default=48.0, gt=0, le=24 * 30)
    reset_token_minutes: float = Field(default=60.0, gt=0, le=24 * 60)
    throttle_window_minutes: float = Field(default=15.0, gt=0, le=24 * 60)
    throttle_per_account: int = Field(
        default=5, ge=1, description="Failed sign-ins per account in the window."
    )
    throttle_per_address: int = Field(
        default=20, ge=1, description="Failed sign-ins per client address in the window."
    )
    resend_window_minutes: float = Field(default=60.0, gt=0, le=24 * 60)
    resend_per_user: int = Field(
        default=3, ge=1, description="Verification links a user may ask for again in the window."
    )
    resend_per_address: int = Field(
        default=10,
        ge=1,
        description="Verification links resent to one client address in the window.",
    )
    signup_per_email: int = Field(
        default=3,
        ge=1,
        description="Sign-up forms sent for one email in the resend window (each may mail it).",
    )
    signup_per_address: int = Field(
        default=20, ge=1, description="Sign-up forms sent from one client address in the window."
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or CIDRs of the proxies in front of the app (JSON list): "
        "behind them the client's address is read from X-Forwarded-For.",
    )

    @field_validator(
        "public_url",
        "webhook_base_url",
        "billing_url",
        "router_url",
        "ledger_url",
        "accounts_url",
        "ingress_url",
        "notifier_url",
    )
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        parse_networks(value)  # raises ValueError with the bad value
        return value

    @field_validator("signup_token")
    @classmethod
    def _signup_token_is_recognisable(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith(SIGNUP_TOKEN_PREFIX):
            raise ValueError(f"the sign-up token must start with {SIGNUP_TOKEN_PREFIX!r}")
        return value

    @field_validator("data_key")
    @classmethod
    def _data_key_is_long(cls, value: SecretStr) -> SecretStr:
        return check_data_key(value)

    @model_validator(mode="after")
    def _secure_cookies_in_production(self) -> WebSettings:
        if self.environment is Environment.PROD and not self.cookie_secure:
            raise ConfigurationError(
                "SPARKY_WEB_COOKIE_SECURE must be true in production: sessions travel over "
                "HTTPS only"
            )
        return self


def web_settings(**overrides: object) -> WebSettings:
    """Build the settings from the environment, with explicit overrides on top."""
    return load_settings(WebSettings, **overrides)

"""The notifier's settings: ``SPARKY_NOTIFIER_…`` first, then the shared ``SPARKY_…``.

Every channel is off until configured: email needs ``SMTP_HOST``, Telegram a bot token.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from libs.common.config import Environment, ServiceSettings, load_settings
from libs.common.db import SCHEMA_PATTERN, DatabaseSettings
from libs.common.db_roles import PrefixedRoles
from libs.common.errors import ConfigurationError
from libs.common.sealing import check_data_key
from libs.common.smtp import SmtpSettings
from libs.common.topology import Durables

SERVICE = "notifier"
CONSUMER = Durables.NOTIFIER  # the durable consumer on EVENTS
# A development default: ServiceSettings refuses it when SPARKY_ENVIRONMENT=prod.
DEV_DATA_KEY = "development-only-notifier-data-key-not-a-secret"


class TelegramMode(StrEnum):
    """How the bot receives updates."""

    POLLING = "polling"
    WEBHOOK = "webhook"


class NotifierSettings(ServiceSettings, DatabaseSettings, PrefixedRoles, SmtpSettings):
    """Everything the notifier reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="SPARKY_NOTIFIER_", extra="ignore", frozen=True)
    ROLE_SERVICE = SERVICE

    http_port: int = Field(default=8109, ge=0, le=65535)
    database_schema: str = Field(default=SERVICE, pattern=SCHEMA_PATTERN)
    api_role: str = Field(
        pattern=SCHEMA_PATTERN,
        description="Role the tenant API switches to: one tenant's rows only (RLS); unset: "
        "<prefix>_notifier_api.",
    )
    writer_role: str = Field(
        pattern=SCHEMA_PATTERN,
        description="Role the consumer, the sender and the bot switch to: every tenant's rows "
        "by policy; unset: <prefix>_notifier_writer.",
    )
    data_key: SecretStr = Field(
        default=SecretStr(DEV_DATA_KEY),
        description="Seals stored secrets (Discord URLs, webhook signing secrets, the tenant "
        "API key the notifier holds, signal-source webhook tokens): AES-256-GCM under a key "
        "derived from it; at least 32 characters; refused as default in prod.",
    )
    # Where the notifier acts as the tenant (with the key it keeps).
    billing_url: str = "http://127.0.0.1:8101"
    router_url: str = "http://127.0.0.1:8103"
    ledger_url: str = "http://127.0.0.1:8105"
    ingress_url: str = Field(
        default="http://127.0.0.1:8102", description="Ingress's internal URL (signal posts)."
    )
    accounts_url: str = Field(
        default="http://127.0.0.1:8107",
        description="The exchange-accounts API (the bot's /status lists accounts); empty: "
        "not asked.",
    )
    api_timeout_s: float = Field(default=10.0, gt=0, le=120)
    # Email (libs.common.smtp.SmtpSettings): off while smtp_host is empty.
    # Telegram: off while the bot token is empty.
    telegram_bot_token: SecretStr | None = Field(
        default=None, description="The bot's token from @BotFather; empty: Telegram off."
    )
    telegram_api_url: str = Field(
        default="https://api.telegram.org", description="Bot API base URL (tests: a stand-in)."
    )
    telegram_bot_username: str = Field(default="", max_length=64)
    telegram_mode: TelegramMode = TelegramMode.POLLING
    telegram_webhook_secret: SecretStr | None = Field(
        default=None,
        description="Webhook mode: the X-Telegram-Bot-Api-Secret-Token Telegram must send.",
    )
    telegram_webhook_url: str = Field(
        default="",
        description="Webhook mode: the notifier's public base URL behind the load balancer; "
        "Telegram is told to POST updates to <it>/telegram/webhook.",
    )
    # Channel targets.
    discord_webhook_prefix: str = Field(
        default="https://discord.com/api/webhooks/",
        description="A Discord channel's URL must start with this (tests: a local stand-in).",
    )
    webhook_allow_http: bool = Field(
        default=False, description="Accept http:// outbound webhook URLs (development only)."
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="Accept outbound webhook URLs on loopback/private addresses (tests, "
        "development): refused by default, so the notifier cannot be aimed inside the cluster.",
    )
    channel_timeout_s: float = Field(default=10.0, gt=0, le=60)
    # The EVENTS consumer.
    batch_size: int = Field(default=200, ge=1, le=5000)
    batch_wait_s: float = Field(default=0.05, gt=0, le=5)
    # The sender.
    sender_poll_s: float = Field(
        default=0.5, gt=0, le=30, description="How often the sender looks for due deliveries."
    )
    send_lease_s: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="How long a channel stays leased to the sender sending to it; after a "
        "crash its interrupted message goes again once this has passed. Longer than any send.",
    )
    sender_concurrency: int = Field(default=16, ge=1, le=256)
    coalesce_max: int = Field(
        default=500,
        ge=1,
        le=1000,
        description="Most events folded into one message (a channel may allow fewer).",
    )
    retry_initial_s: float = Field(default=2.0, gt=0, le=600)
    retry_max_s: float = Field(default=600.0, gt=0, le=86_400)
    give_up_after_s: float = Field(
        default=86_400.0, gt=0, description="A delivery still failing after this is given up."
    )
    email_min_interval_s: float = Field(
        default=60.0, ge=0, le=3600, description="At most one email per address this often."
    )
    verify_code_ttl_s: float = Field(default=3600.0, gt=0, le=7 * 86_400)
    verify_max_tries: int = Field(default=5, ge=1, le=20)
    link_code_ttl_s: float = Field(default=900.0, gt=0, le=86_400)
    summary_hour_utc: int = Field(
        default=0, ge=0, le=23, description="The daily summary goes out in this UTC hour."
    )
    summary_poll_s: float = Field(default=300.0, gt=0, le=3600)

    @field_validator(
        "billing_url",
        "router_url",
        "ledger_url",
        "ingress_url",
        "accounts_url",
        "telegram_api_url",
        "telegram_webhook_url",
    )
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("data_key")
    @classmethod
    def _data_key_is_long(cls, value: SecretStr) -> SecretStr:
        return check_data_key(value)

    @model_validator(mode="after")
    def _safe_targets_in_production(self) -> NotifierSettings:
        if self.environment is Environment.PROD and (
            self.webhook_allow_http or self.webhook_allow_private
        ):
            raise ConfigurationError(
                "SPARKY_NOTIFIER_WEBHOOK_ALLOW_HTTP/_PRIVATE are for development: in production "
                "outbound webhooks go to public https:// addresses only"
            )
        webhook = self.telegram_mode is TelegramMode.WEBHOOK and self.telegram_on
        if webhook and not self.telegram_webhook_secret:
            raise ConfigurationError(
                "SPARKY_NOTIFIER_TELEGRAM_WEBHOOK_SECRET is required in webhook mode"
            )
        if webhook and not self.telegram_webhook_url:
            raise ConfigurationError(
                "SPARKY_NOTIFIER_TELEGRAM_WEBHOOK_URL (the notifier's public base URL) is "
                "required in webhook mode"
            )
        return self

    @model_validator(mode="after")
    def _lease_outlasts_a_send(self) -> NotifierSettings:
        if self.send_lease_s <= max(self.channel_timeout_s, self.smtp_timeout_s) * 2:
            raise ConfigurationError(
                "SPARKY_NOTIFIER_SEND_LEASE_S must be more than twice the channel and SMTP "
                "timeouts: a channel must not be sent to again while a send may still be running"
            )
        return self

    @property
    def email_on(self) -> bool:
        """Whether email channels can be used (an SMTP server is configured)."""
        return bool(self.smtp_host)

    @property
    def telegram_on(self) -> bool:
        """Whether the Telegram bot runs (a token is configured)."""
        return bool(self.telegram_bot_token and self.telegram_bot_token.get_secret_value())

    @property
    def schema_name(self) -> str:
        """The notifier's Postgres schema."""
        return self.database_schema


def notifier_settings(**overrides: object) -> NotifierSettings:
    """Build the settings from the environment, with explicit overrides on top."""
    return load_settings(NotifierSettings, **overrides)

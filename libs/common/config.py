"""The settings base every service extends.

Each service declares ``class RouterSettings(ServiceSettings)`` with its own env prefix
(``SPARKY_ROUTER_``). Every field is read first from the service's prefix, then from the shared
``SPARKY_`` prefix, so an operator sets ``SPARKY_NATS_URL`` once and overrides it per service
only where needed. Settings are built by `load_settings` at start-up, never at import time.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from libs.common.errors import ConfigurationError

SHARED_ENV_PREFIX = "SPARKY_"
NAMESPACE_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"


class Environment(StrEnum):
    """Where the process runs; production refuses development defaults."""

    DEV = "dev"
    TEST = "test"
    PROD = "prod"


class ServiceSettings(BaseSettings):
    """Settings shared by every service."""

    model_config = SettingsConfigDict(env_prefix=SHARED_ENV_PREFIX, extra="ignore", frozen=True)

    environment: Environment = Environment.DEV
    namespace: str = Field(
        default="sparky",
        pattern=NAMESPACE_PATTERN,
        description="Prefix of every NATS stream, subject and KV bucket of this deployment.",
    )
    partitions: int = Field(default=16, ge=1, le=4096)
    nats_url: str = "nats://127.0.0.1:4222"
    nats_user: str | None = Field(
        default=None, description="This service's NATS user (libs.common.nats_access)."
    )
    nats_password: SecretStr | None = None
    nats_ca_file: str | None = Field(
        default=None, description="CA bundle of the NATS server's TLS certificate (tls:// URLs)."
    )
    nats_replicas: int = Field(default=1, ge=1, le=5)
    kv_staleness_s: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="How long the in-memory copies of the KV buckets (API keys, webhook tokens, "
        "tenants) may go without word from NATS before credentials are refused with 503.",
    )
    intents_duplicate_window_s: float = Field(default=60.0, gt=0)
    events_max_age_days: int = Field(default=0, ge=0, description="0 keeps events forever.")
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=0, le=65535)
    log_level: str = "INFO"
    log_json: bool = True
    otlp_endpoint: str | None = None
    # Slow or oversized requests, refused by the server (libs.common.http_limits).
    http_header_timeout_s: float = Field(
        default=10.0, gt=0, le=300, description="Time for a request's line and headers."
    )
    http_body_grace_s: float = Field(
        default=5.0, ge=0, le=300, description="Time a body may take before its rate counts."
    )
    http_min_body_rate: float = Field(
        default=500.0, gt=0, description="Bytes per second a body must average after the grace."
    )
    http_body_timeout_s: float = Field(
        default=30.0, gt=0, le=3600, description="Longest time a whole body may take."
    )
    http_max_body_bytes: int = Field(default=1_048_576, ge=1024, le=64 * 1_048_576)
    http_max_header_bytes: int = Field(default=32_768, ge=4096, le=1_048_576)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Read the service prefix first, then the shared ``SPARKY_`` prefix."""
        shared = EnvSettingsSource(settings_cls, env_prefix=SHARED_ENV_PREFIX)
        return (init_settings, env_settings, shared, dotenv_settings, file_secret_settings)

    @model_validator(mode="after")
    def _one_nats_identity(self) -> ServiceSettings:
        # nats-py prefers credentials in the URL to the user option: with both, the service
        # would not connect as itself.
        if self.nats_user is not None and "@" in self.nats_url.partition("://")[2]:
            raise ConfigurationError(
                "SPARKY_NATS_URL carries credentials while SPARKY_NATS_USER is set: "
                "drop them from the URL (each service connects as its own user)"
            )
        return self

    def secrets_unused(self) -> frozenset[str]:
        """Secret settings this process does not use (a service's role without them): their
        development defaults are no danger in production."""
        return frozenset()

    @model_validator(mode="after")
    def _refuse_default_secrets_in_production(self) -> ServiceSettings:
        if self.environment is not Environment.PROD:
            return self
        unused = self.secrets_unused()
        for name, field in type(self).model_fields.items():
            if name in unused:
                continue
            value, default = getattr(self, name), field.default
            if (
                isinstance(value, SecretStr)
                and isinstance(default, SecretStr)
                and value.get_secret_value() == default.get_secret_value()
            ):
                raise ConfigurationError(
                    f"{name} still has its development default; set a real secret in production"
                )
        return self


S = TypeVar("S", bound=ServiceSettings)


def load_settings(settings_cls: type[S], **overrides: Any) -> S:
    """Build a service's settings from the environment, with explicit overrides on top."""
    return settings_cls(**overrides)

"""Settings of the ingress service (``SPARKY_INGRESS_…``, falling back to ``SPARKY_…``)."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from libs.common.config import ServiceSettings, load_settings

SERVICE = "ingress"


class IngressSettings(ServiceSettings):
    """How the webhook receiver runs: limits, proxies, Redis and publish timeouts."""

    model_config = SettingsConfigDict(env_prefix="SPARKY_INGRESS_", extra="ignore", frozen=True)

    redis_url: str = "redis://127.0.0.1:6379/0"
    body_limit_bytes: int = Field(default=16_384, ge=256, le=1_048_576)
    trusted_proxy_hops: int = Field(
        default=0,
        ge=0,
        le=10,
        description="Proxies in front of ingress that append to X-Forwarded-For; 0 ignores it.",
    )
    # TradingView gives up after 3 s: answer 503 (so that it resends) well before that.
    publish_timeout_s: float = Field(default=2.0, gt=0, le=2.5)
    rate_limit_key_prefix: str | None = Field(
        default=None, description="Redis key prefix; defaults to '<namespace>:'."
    )
    rate_limit_burst_fraction: float = Field(default=0.1, gt=0, le=1)
    rate_limit_min_burst: int = Field(default=5, ge=1)
    redis_timeout_s: float = Field(default=0.25, gt=0, le=5)
    redis_retry_after_failure_s: float = Field(default=1.0, ge=0)
    mirror_start_timeout_s: float = Field(default=10.0, gt=0)
    max_in_flight: int = Field(
        default=512,
        ge=1,
        description="Alerts handled at once (counted once their body has arrived); beyond, 503 "
        "at once rather than a queue that outlasts TradingView's 3 s timeout.",
    )
    max_in_flight_per_webhook: int = Field(
        default=32,
        ge=1,
        description="Requests one webhook URL may have open at once, body still arriving "
        "included; beyond, 503 (TradingView resends), so one tenant cannot hold what all share.",
    )
    # TradingView sends an alert in one go and gives up after 3 s: a request still arriving
    # after a few seconds is not TradingView's (libs.common.http_limits).
    http_header_timeout_s: float = Field(default=5.0, gt=0, le=300)
    http_body_grace_s: float = Field(default=1.0, ge=0, le=300)
    http_body_timeout_s: float = Field(default=5.0, gt=0, le=3600)
    http_max_body_bytes: int = Field(default=65_536, ge=1024, le=64 * 1_048_576)
    access_log_sample_ratio: float = Field(
        default=0.01,
        ge=0,
        le=1,
        description="Share of 2xx answers given an access line; every other answer gets one.",
    )
    trace_sample_ratio: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Share of alerts traced; default 1 with an OTLP endpoint, else 0.",
    )

    @model_validator(mode="after")
    def _server_takes_what_ingress_takes(self) -> IngressSettings:
        if self.http_max_body_bytes < self.body_limit_bytes:
            raise ValueError("http_max_body_bytes must be at least body_limit_bytes")
        return self

    @property
    def effective_trace_sample_ratio(self) -> float:
        """Return the share of requests whose spans are recorded.

        Without an OTLP endpoint no span leaves the process, so none is recorded (recording
        and redacting a span costs CPU on the hot path); trace ids still reach the logs and
        the NATS headers either way.
        """
        if self.trace_sample_ratio is not None:
            return self.trace_sample_ratio
        return 1.0 if self.otlp_endpoint else 0.0

    @property
    def redis_key_prefix(self) -> str:
        """Return the prefix of every Redis key ingress writes."""
        if self.rate_limit_key_prefix is not None:
            return self.rate_limit_key_prefix
        return f"{self.namespace}:"


def ingress_settings(**overrides: object) -> IngressSettings:
    """Build the settings from the environment, with explicit overrides on top."""
    return load_settings(IngressSettings, **overrides)

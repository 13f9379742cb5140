"""The router's settings: ``SPARKY_ROUTER_…`` first, then the shared ``SPARKY_…``."""

from __future__ import annotations

import re
import socket

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from libs.common.config import ServiceSettings, load_settings
from libs.common.consumer import ConsumerPolicy
from libs.common.db import SCHEMA_PATTERN, DatabaseSettings
from libs.common.db_roles import PrefixedRoles
from libs.common.errors import ConfigurationError
from libs.common.signing import DEV_ROUTER_ORDER_KEY, check_keys

SERVICE = "router"
# The roles of the default prefix (namespace ``sparky``); settings name the prefixed ones.
READER_ROLE = "sparky_router_reader"
WRITER_ROLE = "sparky_router_writer"
_ORDINAL = re.compile(r"-(\d+)$")


class RouterSettings(ServiceSettings, DatabaseSettings, PrefixedRoles):
    """Which partitions this replica owns, where its state lives, how it consumes."""

    model_config = SettingsConfigDict(env_prefix="SPARKY_ROUTER_", extra="ignore", frozen=True)
    ROLE_SERVICE = SERVICE

    replica_index: int = Field(default=0, ge=0)
    replica_count: int = Field(default=1, ge=1)
    replica_index_from_hostname: bool = Field(
        default=False,
        description="Take the replica index from the hostname's trailing -N (StatefulSet pod).",
    )
    reader_role: str = Field(
        pattern=SCHEMA_PATTERN,
        description="Role settings reads switch to: no BYPASSRLS, SELECT only, one tenant; "
        "unset: <prefix>_router_reader.",
    )
    writer_role: str = Field(
        pattern=SCHEMA_PATTERN,
        description="Role settings changes switch to: no BYPASSRLS, one tenant; unset: "
        "<prefix>_router_writer.",
    )
    consume: bool = Field(default=True, description="Run the consumers (false: API only).")
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = Field(
        default="", max_length=64, description="Prefix of every Redis key; <namespace>:router:."
    )
    kept_decision_ttl_s: int = Field(
        default=8 * 86_400,
        ge=3_600,
        description="How long a decision is kept for redeliveries; above INTENTS' max age.",
    )
    settings_cache_ttl_s: float = Field(
        default=300.0, gt=0, le=3600, description="Backstop; changes are announced in a KV."
    )
    announce_interval_s: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="How often owed settings.kill_switch events are published again.",
    )
    ack_wait_s: float = Field(default=4.0, ge=1)
    max_deliver: int = Field(default=10, ge=2)
    give_up_after_s: float = Field(default=120.0, gt=0)
    max_concurrency: int = Field(default=64, ge=1, le=1024)
    batch_size: int = Field(default=100, ge=1, le=1000)
    order_signing_key: SecretStr = Field(
        default=SecretStr(DEV_ROUTER_ORDER_KEY),
        description="Signs the router's PlaceOrder and CancelOrders commands "
        "(SPARKY_ORDER_SIGNING_KEY; the executor's order_verify_key_router); refused as "
        "default in prod.",
    )

    @field_validator("order_signing_key")
    @classmethod
    def _one_long_key(cls, value: SecretStr) -> SecretStr:
        return check_keys(value, several=False)

    @property
    def schema_name(self) -> str:
        """The Postgres schema of the trade settings: ``router`` unless configured."""
        return self.database_schema or SERVICE

    @property
    def key_prefix(self) -> str:
        """The prefix of every Redis key the router writes."""
        return self.redis_prefix or f"{self.namespace}:router:"

    def policy(self) -> ConsumerPolicy:
        """Return the consumer policy these settings describe."""
        return ConsumerPolicy(
            ack_wait_s=self.ack_wait_s,
            max_deliver=self.max_deliver,
            give_up_after_s=self.give_up_after_s,
            max_concurrency=self.max_concurrency,
            batch_size=self.batch_size,
        )

    def resolved_replica_index(self, hostname: str | None = None) -> int:
        """Return this replica's index: configured, or the pod ordinal of ``router-3``."""
        if not self.replica_index_from_hostname:
            index = self.replica_index
        else:
            name = hostname if hostname is not None else socket.gethostname()
            match = _ORDINAL.search(name)
            if match is None:
                raise ConfigurationError(f"hostname {name!r} does not end in -<ordinal>")
            index = int(match.group(1))
        if index >= self.replica_count:
            raise ConfigurationError(
                f"replica index {index} is not below the replica count {self.replica_count}"
            )
        return index


def router_settings(**overrides: object) -> RouterSettings:
    """Build the settings from the environment, with explicit overrides on top."""
    return load_settings(RouterSettings, **overrides)

"""The executor's settings: ``SPARKY_EXECUTOR_…`` first, then the shared ``SPARKY_…``."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from libs.common.config import Environment, ServiceSettings, load_settings
from libs.common.db import SCHEMA_PATTERN, DatabaseSettings
from libs.common.db_roles import PrefixedRoles
from libs.common.errors import ConfigurationError
from libs.common.signing import (
    DEV_LEDGER_ORDER_KEY,
    DEV_ORDER_KEYS,
    DEV_ROUTER_ORDER_KEY,
    Issuer,
    check_keys,
    keys_of,
)

SERVICE = "executor"
_ORDINAL = re.compile(r"-(\d+)$")


class VaultAuth(StrEnum):
    """How the executor logs in to Vault."""

    APPROLE = "approle"
    KUBERNETES = "kubernetes"
    TOKEN = "token"  # noqa: S105 - the name of a login method, not a secret


class ExecutorRole(StrEnum):
    """What one executor process does; each role logs in to Vault as its own identity."""

    TRADING = "trading"  # the ORDERS consumer, tracker and marks; Vault: read only; no accounts API
    ACCOUNTS = "accounts"  # the exchange-accounts API only; Vault: the write identity
    ALL = "all"  # both in one process, each with its own identity: tests, never deployed

    @property
    def trades(self) -> bool:
        return self is not ExecutorRole.ACCOUNTS

    @property
    def serves_accounts(self) -> bool:
        return self is not ExecutorRole.TRADING


class ExecutorSettings(ServiceSettings, DatabaseSettings, PrefixedRoles):
    """Everything the executor reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="SPARKY_EXECUTOR_", extra="ignore", frozen=True)
    ROLE_SERVICE = SERVICE

    role: ExecutorRole = Field(
        default=ExecutorRole.TRADING,
        description="trading (consumes ORDERS, reads keys) or accounts (the exchange-accounts "
        "API, writes keys): two Deployments with two Vault identities.",
    )
    http_port: int = Field(default=8104, ge=0, le=65535)
    database_schema: str = Field(default=SERVICE, pattern=SCHEMA_PATTERN)
    api_role: str = Field(
        pattern=SCHEMA_PATTERN,
        description="Role the accounts API switches to: no BYPASSRLS, one tenant's accounts; "
        "unset: <prefix>_executor_api.",
    )
    writer_role: str = Field(
        pattern=SCHEMA_PATTERN,
        description="Role of the order path: every order, every account read-only, by policy; "
        "unset: <prefix>_executor_writer.",
    )
    # Partitions: replica i of N owns p % N == i.
    replica_index: int = Field(default=0, ge=0)
    replica_count: int = Field(default=1, ge=1)
    replica_index_from_hostname: str | None = Field(
        default=None, description="A StatefulSet pod name (executor-3): its ordinal is the index."
    )
    consumer_enabled: bool = True
    consumer_ack_wait_s: float = Field(default=4.0, ge=1)
    consumer_max_deliver: int = Field(default=10, ge=2)
    consumer_concurrency: int = Field(default=64, ge=1)
    retry_give_up_s: float = Field(
        default=120.0, gt=0, description="How long a temporary failure is retried in place."
    )
    retry_initial_s: float = Field(default=0.2, gt=0)
    retry_max_s: float = Field(default=10.0, gt=0)
    # Vault: the trading role reads with a read-only identity (vault_*); the accounts role
    # writes with another (vault_write_*, or vault_* when vault_write_auth is unset).
    vault_url: str = "http://127.0.0.1:8200"
    vault_ca_cert: str | None = Field(
        default=None,
        description="A PEM bundle of the CA(s) that sign Vault's TLS certificate (a private "
        "CA); unset: the system's trusted CAs.",
    )
    vault_mount: str = Field(default="secret", pattern=r"^[A-Za-z0-9_-]+$")
    vault_prefix: str = Field(default="sparky", pattern=r"^[A-Za-z0-9_/-]*$")
    vault_auth: VaultAuth = VaultAuth.APPROLE
    vault_role_id: str | None = None
    vault_secret_id: SecretStr | None = None
    vault_token: SecretStr | None = None
    vault_kubernetes_role: str = SERVICE
    vault_kubernetes_mount: str = "kubernetes"
    vault_kubernetes_jwt_path: str = "/var/run/secrets/kubernetes.io/serviceaccount/token"
    vault_write_auth: VaultAuth | None = Field(
        default=None,
        description="The accounts role's identity; unset: the accounts role logs in as vault_*.",
    )
    vault_write_role_id: str | None = None
    vault_write_secret_id: SecretStr | None = None
    vault_write_token: SecretStr | None = None
    vault_write_kubernetes_role: str = f"{SERVICE}-api"
    vault_timeout_s: float = Field(default=3.0, gt=0)
    credentials_ttl_s: float = Field(default=300.0, gt=0)
    # Exchanges.
    paper_exchange_url: str = "http://127.0.0.1:8106"
    paper_admin_token: SecretStr | None = Field(
        default=None,
        description="The paper exchange's admin bearer token (accounts role): with it, tenants "
        "open paper accounts themselves (POST /api/v1/exchange-accounts/paper); unset: they "
        "cannot.",
    )
    exchange_timeout_ms: int = Field(default=10_000, ge=100)
    client_pool_size: int = Field(default=256, ge=1)
    markets_ttl_s: float = Field(default=3600.0, gt=0)
    price_ttl_s: float = Field(
        default=1.0, gt=0, description="How old a shared last price may be for sizing."
    )
    submission_settle_s: float | None = Field(
        default=None,
        gt=0,
        description="Overrides the venues' time after which an unseen order cannot arrive.",
    )
    exchange_weight_share: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="This replica's share of each venue's per-address request-weight limit; "
        "unset: 1/replica_count (every replica behind one egress address).",
    )
    exchange_weight_margin: float = Field(
        default=0.1, ge=0, lt=1, description="Part of the limit left unplanned, for safety."
    )
    exchange_weight_max_wait_s: float = Field(
        default=30.0, gt=0, description="Longest a request queues for weight before it is refused."
    )
    paper_weight_limit: int | None = Field(
        default=None,
        ge=1,
        description="The paper exchange's weight limit per interval; unset: not limited.",
    )
    paper_weight_interval_s: float = Field(default=60.0, gt=0)
    tracker_interval_s: float = Field(default=2.0, gt=0)
    tracker_concurrency: int = Field(default=16, ge=1)
    tracker_young_s: float = Field(
        default=30.0, ge=0, description="Open orders younger than this are polled every round."
    )
    tracker_age_fraction: float = Field(
        default=0.1, ge=0, description="Older ones every age x this (bounded by the maximum)."
    )
    tracker_max_interval_s: float = Field(
        default=60.0, gt=0, description="The longest an open order goes without a poll."
    )
    accounts_resync_s: float = Field(default=300.0, gt=0)
    protection_give_up_s: float = Field(
        default=120.0,
        gt=0,
        description="How long after an entry filled its protective orders are retried before "
        "protection.failed tells the trader the position is unprotected.",
    )
    marks_interval_s: float = Field(
        default=30.0,
        gt=0,
        description="How often futures positions are marked (position.marked) and their "
        "funding payments read (funding.paid).",
    )

    # Who may command the executor (libs.common.signing); a key per issuer, never logged.
    order_verify_key_router: SecretStr = Field(
        default=SecretStr(DEV_ROUTER_ORDER_KEY),
        description="The router's order signing key (it may sign PlaceOrder and CancelOrders); "
        "during a rotation the new and the old key, separated by a comma.",
    )
    order_verify_key_ledger: SecretStr = Field(
        default=SecretStr(DEV_LEDGER_ORDER_KEY),
        description="The ledger's order signing key (it may sign CancelOrders only); during a "
        "rotation the new and the old key, separated by a comma.",
    )

    @field_validator("order_verify_key_router", "order_verify_key_ledger")
    @classmethod
    def _long_keys(cls, value: SecretStr) -> SecretStr:
        return check_keys(value)

    @model_validator(mode="after")
    def _order_keys_apart(self) -> ExecutorSettings:
        """A key the ledger holds must never verify the router's commands (it could place
        orders), and no development key verifies anything in production."""
        router, ledger = (set(keys_of(key)) for key in self.order_keys.values())
        if router & ledger:
            raise ConfigurationError(
                "order_verify_key_router and order_verify_key_ledger share a key: the ledger "
                "could then sign orders; give each issuer its own key"
            )
        if (
            self.environment is Environment.PROD
            and self.role.trades
            and (router | ledger) & DEV_ORDER_KEYS
        ):
            raise ConfigurationError(
                "an order verifying key is a development default; set real keys in production"
            )
        return self

    def secrets_unused(self) -> frozenset[str]:
        if self.role.trades:
            return frozenset()
        return frozenset({"order_verify_key_router", "order_verify_key_ledger"})

    @property
    def order_keys(self) -> dict[Issuer, SecretStr]:
        """Each issuer's verifying key(s)."""
        return {
            Issuer.ROUTER: self.order_verify_key_router,
            Issuer.LEDGER: self.order_verify_key_ledger,
        }

    @model_validator(mode="after")
    def _vault_over_tls_in_production(self) -> ExecutorSettings:
        """Exchange keys travel between Vault and the executor: never in clear in production."""
        if self.environment is Environment.PROD and not self.vault_url.startswith("https://"):
            raise ConfigurationError(
                f"vault_url must be https:// in production (exchange keys travel on it), not "
                f"{self.vault_url.split('://', 1)[0]}://"
            )
        return self

    @model_validator(mode="after")
    def _replica_exists(self) -> ExecutorSettings:
        if self.effective_replica_index >= self.replica_count:
            raise ConfigurationError(
                f"replica {self.effective_replica_index} does not exist: replica_count is "
                f"{self.replica_count}"
            )
        return self

    @property
    def effective_replica_index(self) -> int:
        """The replica index, from the pod name's trailing ``-N`` when one is configured."""
        if self.replica_index_from_hostname is None:
            return self.replica_index
        match = _ORDINAL.search(self.replica_index_from_hostname)
        if match is None:
            raise ConfigurationError(
                f"cannot read a replica ordinal from {self.replica_index_from_hostname!r}: "
                "expected a name ending in -N, as StatefulSet pods are"
            )
        return int(match.group(1))

    @property
    def weight_share(self) -> float:
        """This replica's share of a venue's limit: as set, else an equal share."""
        return self.exchange_weight_share or 1 / self.replica_count

    @property
    def schema_name(self) -> str:
        return self.database_schema or SERVICE


def executor_settings(**overrides: object) -> ExecutorSettings:
    """Build the settings from the environment, with explicit overrides on top."""
    return load_settings(ExecutorSettings, **overrides)

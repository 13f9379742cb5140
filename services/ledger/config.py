"""The ledger's settings: ``SPARKY_LEDGER_…`` first, then the shared ``SPARKY_…``."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from libs.common.config import ServiceSettings, load_settings
from libs.common.db import SCHEMA_PATTERN, DatabaseSettings
from libs.common.db_roles import PrefixedRoles
from libs.common.signing import DEV_LEDGER_ORDER_KEY, check_keys
from libs.common.topology import Durables

SERVICE = "ledger"
CONSUMER = Durables.LEDGER
ROLE_PATTERN = SCHEMA_PATTERN


class LedgerSettings(ServiceSettings, DatabaseSettings, PrefixedRoles):
    """Where the ledger reads events from, where it keeps its projections, how it batches."""

    model_config = SettingsConfigDict(env_prefix="SPARKY_LEDGER_", extra="ignore", frozen=True)
    ROLE_SERVICE = SERVICE

    reader_role: str = Field(
        pattern=ROLE_PATTERN,
        description="Role the read API switches to: no BYPASSRLS, SELECT only, one tenant; "
        "unset: <prefix>_ledger_reader.",
    )
    writer_role: str = Field(
        pattern=ROLE_PATTERN,
        description="Role the projector switches to: writes every tenant's rows by policy; "
        "unset: <prefix>_ledger_writer.",
    )
    projector_enabled: bool = Field(
        default=True, description="Run the projector in this process (false on API-only pods)."
    )
    batch_size: int = Field(default=500, ge=1, le=5000)
    batch_wait_s: float = Field(
        default=0.05, gt=0, le=5, description="How long a batch waits to fill up."
    )
    idle_poll_s: float = Field(default=1.0, gt=0, le=30)
    ack_wait_s: float = Field(default=60.0, ge=5)
    retry_backoff_s: float = Field(default=1.0, gt=0, le=60)
    lock_poll_s: float = Field(default=2.0, gt=0, le=60)
    order_signing_key: SecretStr = Field(
        default=SecretStr(DEV_LEDGER_ORDER_KEY),
        description="Signs the CancelOrders of DELETE /api/v1/orders/{id} "
        "(SPARKY_ORDER_SIGNING_KEY; the executor's order_verify_key_ledger, which may sign "
        "cancels only); refused as default in prod.",
    )

    @field_validator("order_signing_key")
    @classmethod
    def _one_long_key(cls, value: SecretStr) -> SecretStr:
        return check_keys(value, several=False)

    @property
    def schema_name(self) -> str:
        """The Postgres schema of the projections: ``ledger`` unless configured."""
        return self.database_schema or SERVICE


def ledger_settings(**overrides: object) -> LedgerSettings:
    """Build the settings from the environment, with explicit overrides on top."""
    return load_settings(LedgerSettings, **overrides)

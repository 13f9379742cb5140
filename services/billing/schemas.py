"""What billing's HTTP API accepts and answers. Secrets appear only in ``…Created`` answers."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from libs.common.messages.types import SecretText, Text, UtcDatetime
from libs.common.records import PlanLimits
from services.billing import examples
from services.billing.domain.credentials import CredentialState, normalise_allowlist
from services.billing.domain.plans import PLAN_NAME_PATTERN, LimitOverrides, PaymentState
from services.billing.errors import InvalidRequestError
from services.billing.fsm import Lifecycle

MAX_ROTATION_GRACE_S = 30 * 86_400
_PLAN_NAME = re.compile(PLAN_NAME_PATTERN)


def _plan_name(value: object) -> object:
    """Refuse what is not a plan name exactly as plans are named (lower case, no spaces),
    saying which name was probably meant: a plan is never guessed.
    """
    if not isinstance(value, str) or _PLAN_NAME.fullmatch(value):
        return value
    meant = value.strip().lower()
    hint = f"; did you mean '{meant}'?" if _PLAN_NAME.fullmatch(meant) else ""
    raise ValueError(
        "is not a plan name (lower case: a letter, then letters, digits, '-' or '_'; up to "
        f"32){hint}"
    )


PlanName = Annotated[
    str,
    BeforeValidator(_plan_name),
    Field(
        description="A plan's name, as plans are named (lower case).",
        json_schema_extra={"pattern": PLAN_NAME_PATTERN},
    ),
]
Label = Annotated[Text, Field(min_length=1, max_length=64)]
Passphrase = Annotated[SecretText, Field(min_length=1, max_length=256)]
AllowedAddress = Annotated[Text, Field(min_length=1, max_length=64)]


class Request(BaseModel):
    """A request body: unknown fields are refused so that typos do not go unnoticed."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Answer(BaseModel):
    model_config = ConfigDict(frozen=True)


def _allowlist(value: list[str]) -> list[str]:
    try:
        return list(normalise_allowlist(value))
    except InvalidRequestError as exc:
        raise ValueError(exc.message) from None


class WebhookSpec(Request):
    """A new webhook: a label (one per strategy), where it may be called from, a passphrase."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "label": "btc-trend",
                    "allowed_ips": ["tradingview"],
                    "passphrase": "correct horse battery",
                }
            ]
        }
    )

    label: Label = "default"
    allowed_ips: list[AllowedAddress] = Field(
        default_factory=list,
        description='CIDRs or IPs, or "tradingview" for TradingView\'s addresses; empty: any.',
    )
    passphrase: Passphrase | None = Field(
        default=None, description="If set, alerts must carry it in their `passphrase` field."
    )

    _check_ips = field_validator("allowed_ips")(_allowlist)


class WebhookChange(Request):
    """Fields to change on a webhook; a null passphrase removes it."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"allowed_ips": ["tradingview", "203.0.113.0/24"]}]}
    )

    label: Label | None = None
    allowed_ips: list[AllowedAddress] | None = None
    passphrase: Passphrase | None = None

    @field_validator("allowed_ips")
    @classmethod
    def _check_ips(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _allowlist(value)


class Rotation(Request):
    """How long the old secret keeps working next to the new one (0: stops at once)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"grace_seconds": 86400}]})

    grace_seconds: int = Field(default=0, ge=0, le=MAX_ROTATION_GRACE_S, strict=True)


AT_ONCE = Rotation()
"""A rotation without grace: the default when a rotate request has no body."""


class ApiKeySpec(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [{"label": "laptop"}]})
    label: Label = "default"


class TenantSpec(Request):
    """A new tenant; it gets a first webhook and API key unless ``webhook`` is null."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Ada's trading desk",
                    "plan": "pro",
                    "webhook": {"label": "btc-trend", "allowed_ips": ["tradingview"]},
                }
            ]
        }
    )

    name: Annotated[Text, Field(min_length=1, max_length=200)]
    plan: PlanName | None = Field(default=None, description="Defaults to the configured plan.")
    webhook: WebhookSpec | None = WebhookSpec()
    api_key_label: Label = "default"


class PlanChange(Request):
    """The tenant's plan and the limits it overrides (replacing earlier overrides)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"plan": "pro", "overrides": {"max_alerts_per_hour": 1200}}]
        }
    )

    plan: PlanName
    overrides: LimitOverrides = LimitOverrides()


class CheckoutSpec(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [{"plan": "pro"}]})
    plan: PlanName


class TokenView(Answer):
    """A webhook token as listings show it: never more than its first 8 characters."""

    prefix: str
    state: CredentialState
    created_at: UtcDatetime
    expires_at: UtcDatetime | None


class WebhookView(Answer):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.WEBHOOK]})
    webhook_id: str
    label: str
    allowed_ips: list[str]
    has_passphrase: bool
    state: CredentialState
    created_at: UtcDatetime
    revoked_at: UtcDatetime | None
    tokens: list[TokenView]


class WebhookCreated(Answer):
    """A webhook with its token and URL, shown this once."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.WEBHOOK_CREATED]})

    webhook: WebhookView
    token: str
    url: str


class ApiKeyView(Answer):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.API_KEY_VIEW]})
    key_id: str
    label: str
    prefix: str
    state: CredentialState
    created_at: UtcDatetime
    expires_at: UtcDatetime | None
    revoked_at: UtcDatetime | None


class ApiKeyCreated(Answer):
    """An API key, shown this once."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.API_KEY_CREATED]})

    api_key: ApiKeyView
    key: str


class TenantView(Answer):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.TENANT]})
    tenant_id: str
    name: str
    status: Lifecycle
    plan: str
    plan_in_force: str = Field(description="The fallback plan once a failed payment lapsed.")
    limits: PlanLimits
    overrides: dict[str, bool | int | None]
    payment_state: PaymentState
    grace_ends_at: UtcDatetime | None
    subscription_status: str | None
    created_at: UtcDatetime
    updated_at: UtcDatetime
    deleted_at: UtcDatetime | None


class TenantCreated(Answer):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.TENANT_CREATED]})
    tenant: TenantView
    webhook: WebhookCreated | None
    api_key: ApiKeyCreated


class TenantPage(Answer):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.TENANT_PAGE]})
    tenants: list[TenantView]
    next_after: str | None = Field(description="Pass as `after` for the next page.")


class PlanView(Answer):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.PLAN]})
    name: str
    limits: PlanLimits


class Link(Answer):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.CHECKOUT]})
    url: str


EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"
SIGNUP_REF_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


class SignupSpec(Request):
    """A trader signing up through the web app."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "Ada Lovelace", "email": "ada@example.com", "signup_ref": "42"}]
        }
    )

    name: Annotated[Text, Field(min_length=1, max_length=200)]
    email: Annotated[str, Field(max_length=254, pattern=EMAIL_PATTERN)]
    signup_ref: Annotated[str, Field(pattern=SIGNUP_REF_PATTERN)] | None = Field(
        default=None,
        description="The web app's id of the sign-up (its user row); the same reference sent "
        "again finds the same tenant and issues it a new key and webhook token.",
    )


class SignupWebhook(Answer):
    """The first webhook, with its token and URL, shown this once."""

    id: str
    token: str
    url: str


class SignupCreated(Answer):
    """The signed-up tenant, its ``web`` API key and first webhook, shown this once."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.SIGNUP_CREATED]})

    tenant_id: str
    api_key: str
    webhook: SignupWebhook

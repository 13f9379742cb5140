"""The webhook's decisions, without I/O: who is calling, may they, and what gets stored.

- `WebhookGate`: the token's SHA-256 looked up in the in-memory copies of the
  ``webhook-tokens`` and ``tenants`` buckets (no network call per alert); a copy out of touch
  with NATS beyond its staleness bound may miss a revocation, so the gate then refuses (503).
- `check_source`: the optional IP allowlist (the passphrase: `services.ingress.domain.passphrases`).
- `dedup_key`: ``Nats-Msg-Id``, so JetStream drops a resend atomically.
- `build_intent`, `accepted_event`: the messages ingress publishes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from libs.common import ids
from libs.common.auth import WatchedLookup
from libs.common.ids import IntentId
from libs.common.messages import (
    Alert,
    IntentAccepted,
    OrderIntent,
    RefusalReason,
    envelope_from,
)
from libs.common.records import (
    CredentialStatus,
    TenantRecord,
    WebhookTokenRecord,
    secret_digest,
)
from services.ingress.domain.audit import audit_copy
from services.ingress.domain.network import address_allowed
from services.ingress.domain.parsing import ParsedBody
from services.ingress.errors import ForbiddenError, UnauthorizedError, UnavailableError

# Anything else cannot be a token Sparky issued: refuse it without a lookup.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,128}")
_OUT_OF_TOUCH = (
    "Sparky cannot confirm this webhook URL right now (this server has lost touch with its "
    "key store, so it may not know of a recent change); the alert was not stored, retry shortly."
)
_UNKNOWN = "This webhook URL is not valid: copy it again from your Sparky dashboard."


@dataclass(frozen=True, slots=True)
class Webhook:
    """An authenticated webhook and the tenant it belongs to."""

    record: WebhookTokenRecord
    tenant: TenantRecord


class WebhookGate:
    """Decide whether a webhook URL may deliver alerts now."""

    def __init__(
        self, tokens: WatchedLookup[WebhookTokenRecord], tenants: WatchedLookup[TenantRecord]
    ) -> None:
        self._tokens = tokens
        self._tenants = tenants

    def authenticate(self, token: str, now: datetime) -> Webhook:
        """Return the webhook, or raise 503 (loading, out of touch), 401 (unknown, replaced)
        or 403.
        """
        if not (self._tokens.ready and self._tenants.ready):
            raise UnavailableError(
                "Sparky is starting up and cannot check webhooks yet; retry shortly."
            )
        if not (self._tokens.in_touch and self._tenants.in_touch):
            raise UnavailableError(_OUT_OF_TOUCH)
        record = self._tokens.get(secret_digest(token)) if _TOKEN_SHAPE.fullmatch(token) else None
        if record is None:
            raise UnauthorizedError(_UNKNOWN)
        if not record.usable_at(now):
            raise _unusable(record).of(record)
        tenant = self._tenants.get(record.tenant_id)
        if tenant is None:
            raise UnauthorizedError(_UNKNOWN)
        if not tenant.active:
            raise ForbiddenError(
                "Your Sparky account is suspended: alerts are not traded.",
                refusal=RefusalReason.SUSPENDED,
            ).of(record)
        return Webhook(record, tenant)


def _unusable(record: WebhookTokenRecord) -> UnauthorizedError | ForbiddenError:
    if record.status is CredentialStatus.ACTIVE:  # only its rotation's grace period is over
        return UnauthorizedError(
            "This webhook URL was replaced by a new one: use the new URL.",
            refusal=RefusalReason.URL_REPLACED,
        )
    return ForbiddenError(
        "This webhook is disabled: enable it in your Sparky dashboard.",
        refusal=RefusalReason.WEBHOOK_DISABLED,
    )


def check_source(webhook: Webhook, address: str | None) -> None:
    """Raise 403 when the webhook has an IP allowlist and ``address`` is not in it."""
    if not address_allowed(address, webhook.record.allowed_ips):
        where = address or "an address Sparky could not determine"
        raise ForbiddenError(
            f"This webhook does not accept alerts from {where} (its IP allowlist).",
            refusal=RefusalReason.IP_NOT_ALLOWED,
        ).of(webhook.record)


def dedup_key(webhook_id: str, sender_id: str | None, body: bytes) -> str:
    """Return the alert's ``Nats-Msg-Id``: its sender's id, or its exact body, per webhook.

    Scoped by webhook so that two tenants (or two strategies) sending ``"id": "1"`` never
    swallow each other's alerts.
    """
    digest = hashlib.sha256(webhook_id.encode())
    if sender_id is not None:
        digest.update(b":id:" + sender_id.encode("utf-8"))
    else:
        digest.update(b":body:" + body)
    return digest.hexdigest()


def build_intent(
    webhook: Webhook,
    alert: Alert,
    parsed: ParsedBody,
    body: bytes,
    *,
    source_ip: str | None,
    received_at: datetime,
    new_intent_id: Callable[[], IntentId] = ids.new_intent_id,
) -> OrderIntent:
    """Return the intent to store for an authenticated, valid alert."""
    intent_id = new_intent_id()
    return OrderIntent(
        tenant_id=webhook.record.tenant_id,
        correlation_id=intent_id,
        causation_id=intent_id,
        occurred_at=received_at,
        intent_id=intent_id,
        webhook_id=webhook.record.webhook_id,
        received_at=received_at,
        source_ip=source_ip,
        alert=alert,
        raw_body=audit_copy(parsed),
        dedup_key=dedup_key(webhook.record.webhook_id, alert.sender_id, body),
    )


def accepted_event(intent: OrderIntent, now: datetime) -> IntentAccepted:
    """Return the event that starts the tenant's audit trail and usage count of an intent.

    Built without validation: every field comes from ``intent``, validated a moment ago, or
    from the service's UTC clock (a second validation cost ~40 µs per alert).
    """
    return IntentAccepted.model_construct(
        **envelope_from(intent),
        occurred_at=now,
        intent_id=intent.intent_id,
        webhook_id=intent.webhook_id,
        action=intent.alert.action,
        symbol=intent.alert.instrument.raw,
        received_at=intent.received_at,
        strategy=intent.alert.strategy,
    )

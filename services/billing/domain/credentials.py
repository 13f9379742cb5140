"""Webhooks, tokens and API keys: how secrets are made, shown, listed and published.

Pure: no I/O. A secret exists in clear only in the response that creates it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
from datetime import datetime
from enum import StrEnum

from libs.common.ids import TenantId, Ulid
from libs.common.messages.types import FrozenModel, Label, UtcDatetime
from libs.common.passphrases import hash_passphrase
from libs.common.records import ApiKeyRecord, WebhookTokenRecord
from libs.common.redaction import API_KEY_PREFIX, WEBHOOK_TOKEN_PREFIX
from services.billing.errors import InvalidRequestError

TOKEN_BYTES = 32
SHOWN_PREFIX = 8
TRADINGVIEW_PRESET = "tradingview"
MAX_ALLOWLIST_ENTRIES = 50
MIN_PASSPHRASE = 8


def new_webhook_token() -> str:
    """Return a fresh webhook token: ``whk_`` and 32 random bytes, URL-safe."""
    return WEBHOOK_TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def new_api_key() -> str:
    """Return a fresh tenant API key: ``spk_`` and 32 random bytes, URL-safe."""
    return API_KEY_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def shown_prefix(secret: str) -> str:
    """Return the part of a secret listings may show (its first 8 characters)."""
    return secret[:SHOWN_PREFIX]


async def passphrase_hash(passphrase: str | None) -> str | None:
    """Return the salted slow hash ingress checks an alert's passphrase against, or None.

    Hashed in a thread: one hash takes tens of milliseconds, which the event loop must not wait.
    """
    if passphrase is None:
        return None
    if len(passphrase) < MIN_PASSPHRASE:
        raise InvalidRequestError(f"A passphrase needs at least {MIN_PASSPHRASE} characters.")
    return await asyncio.to_thread(hash_passphrase, passphrase)


def webhook_url(public_base_url: str, token: str) -> str:
    """Return the URL a tenant pastes into TradingView."""
    return f"{public_base_url}/webhooks/tv/{token}"


def normalise_allowlist(entries: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Return the allowlist as canonical CIDRs (or the ``tradingview`` preset), de-duplicated.

    Raises `InvalidRequestError` with a sentence that says what is wrong with the first bad entry.
    An empty list allows every address.
    """
    if len(entries) > MAX_ALLOWLIST_ENTRIES:
        raise InvalidRequestError(
            f"An allowlist holds at most {MAX_ALLOWLIST_ENTRIES} entries; "
            f"this one has {len(entries)}."
        )
    result: list[str] = []
    for entry in entries:
        canonical = _canonical_entry(entry)
        if canonical not in result:
            result.append(canonical)
    return tuple(result)


def _canonical_entry(entry: str) -> str:
    text = entry.strip()
    if text.lower() == TRADINGVIEW_PRESET:
        return TRADINGVIEW_PRESET
    try:
        return str(ipaddress.ip_network(text, strict=True))
    except ValueError:
        pass
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise InvalidRequestError(
            f"{text!r} is not an IP address or network: write one like 52.89.214.238, "
            f"52.89.214.0/24 or 2001:db8::/32, or the word {TRADINGVIEW_PRESET!r}."
        ) from None
    raise InvalidRequestError(
        f"{text!r} has address bits set after the /{network.prefixlen} prefix; "
        f"did you mean {network}?"
    )


class CredentialState(StrEnum):
    """What a listing says about a token or key."""

    ACTIVE = "active"
    EXPIRING = "expiring"  # rotated away; works until expires_at
    EXPIRED = "expired"
    REVOKED = "revoked"


class Webhook(FrozenModel):
    """A tenant's webhook (one per strategy); its token may change, its id does not."""

    webhook_id: Ulid
    tenant_id: TenantId
    label: Label
    allowed_ips: tuple[str, ...] = ()
    passphrase_hash: str | None = None
    created_at: UtcDatetime
    revoked_at: UtcDatetime | None = None


class WebhookToken(FrozenModel):
    """One token of a webhook, known by its digest."""

    digest: str
    webhook_id: Ulid
    tenant_id: TenantId
    prefix: str
    created_at: UtcDatetime
    expires_at: UtcDatetime | None = None
    revoked_at: UtcDatetime | None = None


class ApiKey(FrozenModel):
    """A tenant API key, known by its digest."""

    key_id: Ulid
    tenant_id: TenantId
    label: Label
    digest: str
    prefix: str
    created_at: UtcDatetime
    expires_at: UtcDatetime | None = None
    revoked_at: UtcDatetime | None = None


def state_of(
    revoked_at: datetime | None, expires_at: datetime | None, now: datetime
) -> CredentialState:
    """Return whether a token or key works at ``now``, and why not."""
    if revoked_at is not None:
        return CredentialState.REVOKED
    if expires_at is None:
        return CredentialState.ACTIVE
    return CredentialState.EXPIRING if now < expires_at else CredentialState.EXPIRED


def usable(revoked_at: datetime | None, expires_at: datetime | None, now: datetime) -> bool:
    """Whether a token or key should be in its KV bucket at ``now``."""
    return state_of(revoked_at, expires_at, now) in (
        CredentialState.ACTIVE,
        CredentialState.EXPIRING,
    )


def token_record(webhook: Webhook, token: WebhookToken) -> WebhookTokenRecord:
    """Return what the ``webhook-tokens`` bucket holds under ``token.digest``."""
    return WebhookTokenRecord(
        tenant_id=webhook.tenant_id,
        webhook_id=webhook.webhook_id,
        label=webhook.label,
        allowed_ips=webhook.allowed_ips,
        passphrase_hash=webhook.passphrase_hash,
        expires_at=token.expires_at,
    )


def api_key_record(key: ApiKey) -> ApiKeyRecord:
    """Return what the ``api-keys`` bucket holds under ``key.digest``."""
    return ApiKeyRecord(
        tenant_id=key.tenant_id, key_id=key.key_id, label=key.label, expires_at=key.expires_at
    )

"""Signed commands on ORDERS: only the router may make the executor trade, the ledger cancel.

Anyone who can publish to ``<ns>.orders.<p>.<tenant>`` could otherwise have the executor place
an order for any tenant. So every command carries its issuer's HMAC-SHA256 over the subject and
the exact published bytes, in the ``Sparky-Signature`` header as ``<issuer>:<hex>``: a command
cannot be altered, forged without the issuer's key, or moved to another tenant's subject. The
executor holds every issuer's key (`CommandVerifier`) and a rule table of which issuer may sign
which command kind; it refuses anything else as malformed, before it parses the command.

Keys are at least `MIN_KEY_LENGTH` characters (``openssl rand -hex 32``). During a rotation a
verifying key setting holds the new and the old key separated by commas, so that commands
signed before the switch are still carried out.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from enum import StrEnum

from pydantic import SecretStr

from libs.common.errors import MalformedMessageError
from libs.common.redaction import REDACTOR

SIGNATURE_HEADER = "Sparky-Signature"
MIN_KEY_LENGTH = 32
_CONTEXT = b"sparky-orders-v1\n"
"""Binds a signature to this use: a MAC made for anything else never verifies here."""
# Development defaults: ServiceSettings refuses them when SPARKY_ENVIRONMENT=prod.
DEV_ROUTER_ORDER_KEY = "development-only-router-order-signing-key"
DEV_LEDGER_ORDER_KEY = "development-only-ledger-order-signing-key"
DEV_ORDER_KEYS = frozenset({DEV_ROUTER_ORDER_KEY, DEV_LEDGER_ORDER_KEY})


class Issuer(StrEnum):
    """Who signs commands on ORDERS."""

    ROUTER = "router"
    LEDGER = "ledger"


MAY_SIGN: Mapping[Issuer, frozenset[str]] = {
    Issuer.ROUTER: frozenset({"place", "cancel"}),
    Issuer.LEDGER: frozenset({"cancel"}),
}
"""Which issuer may sign which command kind (`PlaceOrder.kind`, `CancelOrders.kind`): the
router decides orders and cancels; the ledger only forwards a trader's ``DELETE`` of an open
order, so a compromised ledger can never make the executor place an order. The executor
enforces it; the AsyncAPI document shows it."""


class UntrustedCommandError(MalformedMessageError):
    """A command whose signature is missing, malformed or wrong, or whose issuer may not sign
    its kind; ``reason`` is a short code fit for a metric label."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def keys_of(setting: SecretStr) -> tuple[str, ...]:
    """Return the keys of a setting: one, or several separated by commas (a rotation)."""
    return tuple(key.strip() for key in setting.get_secret_value().split(","))


def check_keys(setting: SecretStr, *, several: bool = True) -> SecretStr:
    """Return ``setting`` if each of its keys is long enough (and it holds one key unless
    ``several``), else raise `ValueError`: a pydantic validator whose message never shows a key.
    """
    keys = keys_of(setting)
    if not several and len(keys) > 1:
        raise ValueError("an order signing key is one key, without commas")
    if any(len(key) < MIN_KEY_LENGTH for key in keys):
        raise ValueError(
            f"an order signing key must be at least {MIN_KEY_LENGTH} characters long "
            "(openssl rand -hex 32)"
        )
    return setting


def _mac(key: str, issuer: Issuer, subject: str, payload: bytes) -> str:
    mac = hmac.new(key.encode(), _CONTEXT, hashlib.sha256)
    mac.update(f"{issuer.value}\n{subject}\n".encode())  # a subject has no line break
    mac.update(payload)
    return mac.hexdigest()


class CommandSigner:
    """Sign the commands one issuer publishes on ORDERS."""

    def __init__(self, issuer: Issuer, key: SecretStr) -> None:
        self._key = check_keys(key, several=False).get_secret_value().strip()
        self.issuer = issuer
        REDACTOR.register(self._key)

    def header(self, subject: str, payload: bytes) -> dict[str, str]:
        """Return the signature header of ``payload`` published on ``subject``."""
        mac = _mac(self._key, self.issuer, subject, payload)
        return {SIGNATURE_HEADER: f"{self.issuer.value}:{mac}"}


class CommandVerifier:
    """Tell which issuer signed a command, or refuse it (`UntrustedCommandError`)."""

    def __init__(self, keys: Mapping[Issuer, SecretStr]) -> None:
        self._keys = {issuer: keys_of(check_keys(setting)) for issuer, setting in keys.items()}
        for secrets in self._keys.values():
            for key in secrets:
                REDACTOR.register(key)

    def issuer_of(self, subject: str, payload: bytes, header: str | None) -> Issuer:
        """Return the issuer whose key signed ``payload`` on ``subject``."""
        if not header:
            raise UntrustedCommandError("missing", "the command is not signed")
        name, _, given = header.partition(":")
        try:
            issuer = Issuer(name)
        except ValueError:
            raise UntrustedCommandError(
                "unknown_issuer", "the command names no known issuer"
            ) from None
        if issuer not in self._keys:
            raise UntrustedCommandError(
                "unknown_issuer", f"no key to verify {issuer.value}'s commands"
            )
        given_bytes = given.lower().encode(errors="replace")
        expected = (_mac(key, issuer, subject, payload) for key in self._keys[issuer])
        if not any(hmac.compare_digest(mac.encode(), given_bytes) for mac in expected):
            raise UntrustedCommandError(
                "bad_signature", f"the command's signature is not {issuer.value}'s for its subject"
            )
        return issuer

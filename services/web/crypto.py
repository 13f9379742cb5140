"""Secrets at rest and signed values, under keys derived from ``SPARKY_WEB_DATA_KEY``.

- `DataBox` seals what the app must read back (tenant API keys, webhook tokens, TOTP secrets):
  AES-256-GCM, a random 96-bit nonce per value, the row's identity as associated data (a
  sealed value copied onto another user's row does not open there);
- `Signer` makes values the browser returns unforgeable (CSRF tokens): HMAC-SHA-256;
- `new_token` / `digest`: random bearer values (sessions, mail links) and the SHA-256 kept of
  them, so a copy of the database opens no session and follows no link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE_BYTES = 12
_VERSION = b"\x01"


def derive_key(secret: str, purpose: str) -> bytes:
    """Return a 32-byte key for ``purpose`` derived from ``secret`` (HKDF-SHA-256)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode())
    return hkdf.derive(secret.encode())


class SealedValueError(Exception):
    """A sealed value does not open: another key, another row, or tampered with."""


class DataBox:
    """Seal and open small secrets with AES-256-GCM."""

    def __init__(self, secret: str) -> None:
        self._aead = AESGCM(derive_key(secret, "sparky-web/data/v1"))

    def seal(self, plaintext: str, context: str) -> bytes:
        """Return ``plaintext`` encrypted, bound to ``context`` (e.g. ``"api_key:<user>"``)."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return _VERSION + nonce + sealed

    def open(self, sealed: bytes, context: str) -> str:
        """Return the plaintext `seal` sealed with ``context``; raise `SealedValueError`."""
        if sealed[:1] != _VERSION:
            raise SealedValueError("unknown sealed value version")
        nonce, body = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, context.encode()).decode()
        except InvalidTag as exc:
            raise SealedValueError("the sealed value does not open with this key") from exc


class Signer:
    """HMAC-SHA-256 of strings, URL-safe, compared in constant time."""

    def __init__(self, secret: str, purpose: str) -> None:
        self._key = derive_key(secret, purpose)

    def sign(self, value: str) -> str:
        """Return the signature of ``value``."""
        mac = hmac.digest(self._key, value.encode(), "sha256")
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def verify(self, value: str, signature: str) -> bool:
        """Whether ``signature`` is `sign`'s of ``value``."""
        return hmac.compare_digest(self.sign(value), signature)


def new_token() -> str:
    """Return a random URL-safe bearer value (256 bits)."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """Return the hex SHA-256 kept in place of ``token``."""
    return hashlib.sha256(token.encode()).hexdigest()

"""Secrets at rest and signed values, under keys derived from ``SPARKY_WEB_DATA_KEY``.

- `data_box` seals what the app must read back (tenant API keys, webhook tokens, TOTP secrets):
  `libs.common.sealing.DataBox` (AES-256-GCM, the row's identity as associated data) under the
  web app's own purpose, so the notifier's box never opens the web app's values;
- `Signer` makes values the browser returns unforgeable (CSRF tokens): HMAC-SHA-256;
- `new_token` / `digest`: random bearer values (sessions, mail links) and the SHA-256 kept of
  them, so a copy of the database opens no session and follows no link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from libs.common.sealing import DataBox, derive_key

PURPOSE = "sparky-web/data/v1"


def data_box(secret: str) -> DataBox:
    """Return the web app's box under ``secret`` (``SPARKY_WEB_DATA_KEY``)."""
    return DataBox(secret, PURPOSE)


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

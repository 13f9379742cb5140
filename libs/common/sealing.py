"""Small secrets at rest: AES-256-GCM under a key derived from a service's data key.

`DataBox` seals what a service must read back (a tenant API key it holds, a webhook's signing
secret, a Discord URL): a random 96-bit nonce per value, and the row's identity as associated
data, so a sealed value copied onto another row does not open there. The key is derived with
HKDF-SHA-256 for one ``purpose``, so two services' boxes never open each other's values even
under one data key (the web app's purpose is ``sparky-web/data/v1``, the notifier's
``sparky-notifier/data/v1``).

Needs the ``cryptography`` package (the web and notifier extras).
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

_NONCE_BYTES = 12
_VERSION = b"\x01"
MIN_DATA_KEY_LENGTH = 32


def check_data_key(value: SecretStr) -> SecretStr:
    """Return a service's data key; refuse one shorter than ``MIN_DATA_KEY_LENGTH``."""
    if len(value.get_secret_value()) < MIN_DATA_KEY_LENGTH:
        raise ValueError(f"the data key must be at least {MIN_DATA_KEY_LENGTH} characters")
    return value


def derive_key(secret: str, purpose: str) -> bytes:
    """Return a 32-byte key for ``purpose`` derived from ``secret`` (HKDF-SHA-256)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode())
    return hkdf.derive(secret.encode())


class SealedValueError(Exception):
    """A sealed value does not open: another key, another row, or tampered with."""


class DataBox:
    """Seal and open small secrets with AES-256-GCM."""

    def __init__(self, secret: str, purpose: str) -> None:
        self._aead = AESGCM(derive_key(secret, purpose))

    def seal(self, plaintext: str, context: str) -> bytes:
        """Return ``plaintext`` encrypted, bound to ``context`` (e.g. ``"api_key:<tenant>"``)."""
        nonce = os.urandom(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext.encode(), context.encode())

    def open(self, sealed: bytes, context: str) -> str:
        """Return the plaintext `seal` sealed with ``context``; raise `SealedValueError`."""
        if sealed[:1] != _VERSION:
            raise SealedValueError("unknown sealed value version")
        nonce, body = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, context.encode()).decode()
        except InvalidTag as exc:
            raise SealedValueError("the sealed value does not open with this key") from exc

    def __repr__(self) -> str:
        return "DataBox(<sealed>)"

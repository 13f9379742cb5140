"""Webhook passphrases, stored as salted scrypt hashes whose parameters travel with them.

Two forms of the stored string (salt and hash in unpadded URL-safe base64):

- ``scrypt$n=16384,r=8,p=1$<salt>$<hash>``: scrypt of the passphrase's UTF-8 bytes;
- ``scrypt-sha256$n=16384,r=8,p=1$<salt>$<hash>``: scrypt of the passphrase's raw SHA-256,
  the form an unsalted digest stored before salting was wrapped into, without knowing the
  passphrase (billing's migration 0003).

One check costs tens of milliseconds on purpose (``docs/benchmarks.md``): whoever reads the
stored strings cannot try passphrases fast. Readers bound the parameters they accept, so a
corrupt record cannot make a check take minutes or gigabytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

PLAIN = "scrypt"
WRAPPED_SHA256 = "scrypt-sha256"
SALT_BYTES = 16
HASH_BYTES = 32
MAX_MEMORY = 64 * 1024 * 1024  # bytes scrypt may use; n=16384, r=8 takes 16 MiB
_FORM = re.compile(
    r"(?P<scheme>scrypt|scrypt-sha256)\$n=(?P<n>[0-9]{1,8}),r=(?P<r>[0-9]{1,3}),p=(?P<p>[0-9]{1,3})"
    r"\$(?P<salt>[A-Za-z0-9_-]{16,64})\$(?P<hash>[A-Za-z0-9_-]{43})"
)


@dataclass(frozen=True, slots=True)
class Cost:
    """scrypt's work factors: CPU and memory (``n``, a power of 2), block size, parallelism."""

    n: int = 2**14
    r: int = 8
    p: int = 1

    def acceptable(self) -> bool:
        """Whether a reader may run scrypt with these factors (bounded time and memory)."""
        power_of_two = self.n > 1 and self.n & (self.n - 1) == 0
        in_range = 2**10 <= self.n <= 2**20 and 1 <= self.r <= 32 and 1 <= self.p <= 4
        return power_of_two and in_range and 128 * self.n * self.r * self.p <= MAX_MEMORY


DEFAULT_COST = Cost()


@dataclass(frozen=True, slots=True)
class StoredHash:
    """A stored passphrase hash, parsed."""

    scheme: str
    cost: Cost
    salt: bytes
    digest: bytes


def hash_passphrase(passphrase: str, cost: Cost = DEFAULT_COST) -> str:
    """Return the string to store for ``passphrase``: a fresh salt, scrypt, its parameters."""
    return _stored(PLAIN, passphrase.encode("utf-8"), cost)


def wrap_sha256(hexdigest: str, cost: Cost = DEFAULT_COST) -> str:
    """Return the string to store for a passphrase known only by its unsalted SHA-256 (hex)."""
    return _stored(WRAPPED_SHA256, bytes.fromhex(hexdigest), cost)


def verify_passphrase(given: str, stored: str) -> bool:
    """Whether ``given`` is the passphrase ``stored`` was made from (slow, on purpose)."""
    parsed = parse_stored(stored)
    secret = given.encode("utf-8")
    if parsed.scheme == WRAPPED_SHA256:
        secret = hashlib.sha256(secret).digest()
    return hmac.compare_digest(_scrypt(secret, parsed.salt, parsed.cost), parsed.digest)


def parse_stored(stored: str) -> StoredHash:
    """Return the parts of a stored hash; raise `ValueError` for another form or a cost no
    reader should run.
    """
    match = _FORM.fullmatch(stored)
    if match is None:
        raise ValueError("is not a passphrase hash of the form scrypt$n=…,r=…,p=…$<salt>$<hash>")
    cost = Cost(int(match["n"]), int(match["r"]), int(match["p"]))
    if not cost.acceptable():
        raise ValueError("has scrypt parameters outside the accepted bounds")
    return StoredHash(match["scheme"], cost, _unb64(match["salt"]), _unb64(match["hash"]))


def checked_form(stored: str) -> str:
    """Return ``stored`` if it is a passphrase hash a reader can check (a model validator)."""
    parse_stored(stored)
    return stored


def _stored(scheme: str, secret: bytes, cost: Cost) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(secret, salt, cost)
    return f"{scheme}$n={cost.n},r={cost.r},p={cost.p}${_b64(salt)}${_b64(digest)}"


def _scrypt(secret: bytes, salt: bytes, cost: Cost) -> bytes:
    return hashlib.scrypt(
        secret,
        salt=salt,
        n=cost.n,
        r=cost.r,
        p=cost.p,
        maxmem=MAX_MEMORY + 1024**2,
        dklen=HASH_BYTES,
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

"""Paper accounts: created with starting balances and a Binance-style API key and secret.

The key and secret are random 64-character strings, like Binance's. The key is stored only as
its SHA-256; the secret must be stored as is, because checking an HMAC signature needs it.
Neither is ever logged, and neither is shown again after creation.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from services.paper.models import ZERO, Balance
from services.paper.store.database import Credentials, Store

KEY_LENGTH = 64
ASSET_PATTERN = r"^[A-Z0-9]{1,20}$"
_ASSET = re.compile(ASSET_PATTERN)
_ALPHABET = string.ascii_letters + string.digits
_MAX_CACHED_KEYS = 100_000


@dataclass(frozen=True, slots=True)
class NewAccount:
    """A created account; the only time its API key and secret are available."""

    account_id: int
    label: str
    api_key: str
    secret: str


def key_digest(api_key: str) -> str:
    """Return the SHA-256 hex digest under which an API key is stored."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def _random_key() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(KEY_LENGTH))


def parse_balance(text: str) -> tuple[str, Decimal]:
    """Parse ``ASSET=AMOUNT`` (``USDT=10000``); raise ValueError saying what is wrong."""
    asset, sep, amount = text.partition("=")
    asset = asset.strip().upper()
    if not sep or not _ASSET.match(asset):
        raise ValueError(f"{text!r} is not ASSET=AMOUNT, e.g. USDT=10000")
    return asset, checked_amount(asset, amount.strip())


def checked_amount(asset: str, amount: str | Decimal) -> Decimal:
    """Return ``amount`` as a non-negative Decimal; raise ValueError otherwise."""
    try:
        value = Decimal(amount)
    except InvalidOperation:
        raise ValueError(f"the amount of {asset} must be a number, not {amount!r}") from None
    if not value.is_finite() or value < ZERO:
        raise ValueError(f"the amount of {asset} must be zero or more, not {amount}")
    return value


class KeyRing:
    """API keys to their credentials, each remembered for ``ttl_ms`` after a lookup.

    Saves a read of the state file per request; a key disabled by another process sharing
    the file stops working within ``ttl_ms`` (at once when disabled through this process).
    """

    def __init__(self, store: Store, clock: Callable[[], int], ttl_ms: int = 2000) -> None:
        self._store = store
        self._clock = clock
        self._ttl_ms = ttl_ms
        self._known: dict[str, tuple[int, Credentials]] = {}

    async def lookup(self, api_key: str) -> Credentials | None:
        """Return the credentials of ``api_key``, None when it is unknown."""
        digest = key_digest(api_key)
        now = self._clock()
        cached = self._known.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        found = await self._store.credentials(digest)
        if found is not None:
            if len(self._known) >= _MAX_CACHED_KEYS:
                self._known.clear()
            self._known[digest] = (now + self._ttl_ms, found)
        return found

    def forget_all(self) -> None:
        """Drop every remembered key (after an account is disabled)."""
        self._known.clear()


async def create_account(
    store: Store, label: str, balances: Mapping[str, Decimal], now_ms: int
) -> NewAccount:
    """Create an account holding ``balances`` (all free) and return its credentials."""
    api_key, secret = _random_key(), _random_key()
    async with store.write() as tx:
        account_id = await tx.create_account(label, key_digest(api_key), secret, now_ms)
        await tx.put_balances(account_id, [Balance(a, v) for a, v in balances.items()])
    return NewAccount(account_id, label, api_key, secret)


async def set_free_balances(store: Store, account_id: int, balances: Mapping[str, Decimal]) -> None:
    """Set the free amount of some assets of an account, keeping what open orders lock."""
    async with store.write() as tx:
        held = await tx.wallet(account_id, balances)
        await tx.put_balances(
            account_id,
            [Balance(a, v, held.get(a, Balance(a)).locked) for a, v in balances.items()],
        )

"""Exchange API keys in memory: a value that never prints itself, and a short-lived cache.

The cache serves a copy without calling Vault while it is younger than its TTL. Once a copy
is half its TTL old, the next look-up still gets it at once and a read from Vault runs in the
background (one per account at a time): an active account's orders never wait for Vault, and
accounts loaded together (a burst of first orders) do not all stall their next orders on a
Vault read at the same moment. While Vault is down the copy is served until the TTL runs
out; then the caller waits for Vault and gets `CredentialsUnavailableError` if it still does
not answer (fail closed, never a guess). Every loaded secret is registered with the log
redactor, and forgotten when no cached entry holds it any more.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from libs.common.messages.types import utcnow
from libs.common.redaction import REDACTOR
from services.executor.errors import CredentialsUnavailableError
from services.executor.metrics import CREDENTIAL_CACHE

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Credentials:
    """An account's API keys; ``repr`` and ``str`` show none of them."""

    api_key: str = field(repr=False)
    secret: str = field(repr=False)
    passphrase: str | None = field(default=None, repr=False)

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.api_key, self.secret, self.passphrase) if s)

    @property
    def fingerprint(self) -> str:
        """A digest that changes when the keys change (to renew a pooled client)."""
        joined = "\x00".join((self.api_key, self.secret, self.passphrase or ""))
        return hashlib.sha256(joined.encode()).hexdigest()[:16]


class _Holds:
    """Reference counts over the process-wide redactor, so two holders of one secret (the
    cache and an API request) do not unregister it from under each other.
    """

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()

    def hold(self, secrets: tuple[str, ...]) -> None:
        for secret in secrets:
            REDACTOR.register(secret)
            self._counts[secret] += 1

    def release(self, secrets: tuple[str, ...]) -> None:
        for secret in secrets:
            self._counts[secret] -= 1
            if self._counts[secret] <= 0:
                del self._counts[secret]
                REDACTOR.forget(secret)


REDACTION_HOLDS = _Holds()
"""Register secrets for redaction while something in the process holds them."""

AccountRef = tuple[str, str]  # (tenant_id, label)
Loader = Callable[[str, str], Awaitable[Credentials]]


@dataclass(slots=True)
class _Entry:
    credentials: Credentials
    loaded_at: float
    loaded_wall: datetime


class CredentialCache:
    """Keys by (tenant, label), loaded through ``load`` (Vault), with a TTL."""

    def __init__(
        self,
        load: Loader,
        ttl_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._load = load
        self._ttl_s = ttl_s
        self._clock = clock
        self._wall_clock = wall_clock
        self._entries: dict[AccountRef, _Entry] = {}
        self._refreshing: dict[AccountRef, asyncio.Task[None]] = {}

    async def get(
        self, tenant_id: str, label: str, *, changed_at: datetime | None = None
    ) -> Credentials:
        """Return the account's keys, or raise `CredentialsUnavailableError`.

        ``changed_at``: when the keys were last replaced (by any replica's API); a copy loaded
        before that is never served.
        """
        ref = (tenant_id, label)
        entry, now = self._entries.get(ref), self._clock()
        if entry is not None and changed_at is not None and entry.loaded_wall < changed_at:
            self.drop(tenant_id, label)
            entry = None
        if entry is not None and now - entry.loaded_at < self._ttl_s:
            if now - entry.loaded_at >= self._ttl_s / 2:
                self._refresh_in_background(ref, entry)
            CREDENTIAL_CACHE.labels("hit").inc()
            return entry.credentials
        started = self._wall_clock()  # a read racing an update must not outlive it
        try:
            credentials = await self._load(tenant_id, label)
        except CredentialsUnavailableError:
            CREDENTIAL_CACHE.labels("unavailable").inc()
            self.drop(tenant_id, label)
            raise
        CREDENTIAL_CACHE.labels("miss").inc()
        self._store(ref, _Entry(credentials, now, started))
        return credentials

    def _refresh_in_background(self, ref: AccountRef, entry: _Entry) -> None:
        if ref not in self._refreshing:
            task = asyncio.get_running_loop().create_task(self._refresh(ref, entry))
            self._refreshing[ref] = task
            task.add_done_callback(lambda _: self._refreshing.pop(ref, None))

    async def _refresh(self, ref: AccountRef, entry: _Entry) -> None:
        """Read the account's keys again; keep the copy being served if Vault does not answer."""
        loaded_at, started = self._clock(), self._wall_clock()
        try:
            credentials = await self._load(*ref)
        except CredentialsUnavailableError:
            CREDENTIAL_CACHE.labels("stale").inc()  # served until its TTL runs out
            return
        except Exception:  # never let a background read die unseen
            CREDENTIAL_CACHE.labels("stale").inc()
            log.exception("could not refresh an account's keys; the cached copy is served")
            return
        if self._entries.get(ref) is not entry:
            return  # dropped or replaced meanwhile (keys changed): this read may be older
        CREDENTIAL_CACHE.labels("refreshed").inc()
        self._store(ref, _Entry(credentials, loaded_at, started))

    async def close(self) -> None:
        """Stop the background reads (at shutdown)."""
        tasks = list(self._refreshing.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def evict_expired(self) -> int:
        """Drop every copy past its TTL (keys should not linger in memory); return how many."""
        now = self._clock()
        expired = [ref for ref, e in self._entries.items() if now - e.loaded_at >= self._ttl_s]
        for tenant_id, label in expired:
            self.drop(tenant_id, label)
        return len(expired)

    def drop(self, tenant_id: str, label: str) -> None:
        """Forget an account's keys (updated or removed)."""
        entry = self._entries.pop((tenant_id, label), None)
        if entry is not None:
            REDACTION_HOLDS.release(entry.credentials.secrets())

    def _store(self, ref: AccountRef, entry: _Entry) -> None:
        REDACTION_HOLDS.hold(entry.credentials.secrets())
        old = self._entries.get(ref)
        self._entries[ref] = entry
        if old is not None:
            REDACTION_HOLDS.release(old.credentials.secrets())

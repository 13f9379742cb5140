"""The webhook passphrase, a second factor: checked against a slow salted hash, remembered.

A trader's strategy sends the same passphrase with every alert, and one scrypt check costs
tens of milliseconds, so a successful check is remembered (`VerifiedPassphrases`) and the next
alert with the same passphrase costs a keyed digest and a dictionary lookup. Only successes are
remembered: every wrong passphrase costs the slow hash again, within the tenant's rate limit
(the handler checks it first) and a small pool of hashing threads, so the event loop never
waits for one.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections import OrderedDict

from libs.common.passphrases import verify_passphrase
from services.ingress.domain.webhook import Webhook
from services.ingress.errors import UnauthorizedError

CACHE_SIZE = 10_000
HASHING_THREADS = 2  # at most this many checks at once; the others wait their turn
_MISSING = "This webhook needs its passphrase in the alert message."
_WRONG = "The passphrase in the alert message is wrong."


class VerifiedPassphrases:
    """The latest successful checks, at most ``size`` of them (least recently used go first).

    An entry's key is the webhook id, the stored hash the check was made against and an HMAC
    of the passphrase given under a key of this process: a different passphrase, or a changed
    or rotated one (a new stored hash, with a new salt), never finds an entry. The passphrase
    is not kept, nor a digest of it anyone else could compute.
    """

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._size = size
        self._key = secrets.token_bytes(32)
        self._entries: OrderedDict[tuple[str, str, bytes], None] = OrderedDict()

    def _entry(self, webhook_id: str, stored: str, given: str) -> tuple[str, str, bytes]:
        mac = hmac.new(self._key, given.encode("utf-8"), hashlib.sha256).digest()
        return webhook_id, stored, mac

    def seen(self, webhook_id: str, stored: str, given: str) -> bool:
        """Whether ``given`` was checked against ``stored`` and found right lately."""
        entry = self._entry(webhook_id, stored, given)
        if entry not in self._entries:
            return False
        self._entries.move_to_end(entry)
        return True

    def remember(self, webhook_id: str, stored: str, given: str) -> None:
        """Note a successful check."""
        self._entries[self._entry(webhook_id, stored, given)] = None
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class PassphraseCheck:
    """Check an alert's passphrase against its webhook's: fast when known, else slow."""

    def __init__(
        self, verified: VerifiedPassphrases | None = None, threads: int = HASHING_THREADS
    ) -> None:
        self._verified = verified or VerifiedPassphrases()
        self._threads = asyncio.Semaphore(threads)

    def pending(self, webhook: Webhook, given: str | None) -> str | None:
        """Return the passphrase still to `verify` slowly, or None when nothing is left to
        check (none needed, or this one succeeded lately); raise 401 when it is missing (or
        wrong, in the unsalted form).
        """
        record = webhook.record
        stored = record.passphrase_hash
        if stored is None and record.passphrase_sha256 is None:
            return None
        if given is None:
            raise UnauthorizedError(_MISSING)
        if stored is None:  # published by a billing before migration 0003: fast to check
            digest = hashlib.sha256(given.encode("utf-8")).hexdigest()
            if not hmac.compare_digest(digest, record.passphrase_sha256 or ""):
                raise UnauthorizedError(_WRONG)
            return None
        return None if self._verified.seen(record.webhook_id, stored, given) else given

    async def verify(self, webhook: Webhook, given: str) -> None:
        """Run the slow check in a hashing thread; raise 401 if ``given`` is wrong."""
        stored = webhook.record.passphrase_hash
        if stored is None:
            return
        async with self._threads:
            right = await asyncio.to_thread(verify_passphrase, given, stored)
        if not right:
            raise UnauthorizedError(_WRONG)
        self._verified.remember(webhook.record.webhook_id, stored, given)

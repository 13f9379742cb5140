"""The ``accounts`` KV bucket: what the router knows of each account (never any key)."""

from __future__ import annotations

import contextlib
import logging

from nats.js.errors import KeyNotFoundError, NoKeysError
from nats.js.kv import KeyValue

from libs.common.errors import TemporaryError
from libs.common.records import account_key
from services.executor.domain import Account

log = logging.getLogger(__name__)


class AccountBucket:
    """Publish account changes; Postgres stays the source of truth."""

    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv

    async def put(self, account: Account) -> None:
        """Publish ``account`` (raises `TemporaryError` when NATS cannot store it)."""
        key = account_key(account.tenant_id, account.label)
        try:
            await self._kv.put(key, account.record().model_dump_json().encode())
        except Exception as exc:
            raise TemporaryError(f"could not publish account {key}: {exc}") from exc

    async def delete(self, tenant_id: str, label: str) -> None:
        """Remove an account from the bucket."""
        with contextlib.suppress(KeyNotFoundError):
            await self._kv.delete(account_key(tenant_id, label))

    async def resync(self, accounts: list[Account]) -> int:
        """Make the bucket hold exactly ``accounts``; return how many keys were removed."""
        for account in accounts:
            await self.put(account)
        wanted = {account_key(a.tenant_id, a.label) for a in accounts}
        try:
            present = await self._kv.keys()
        except NoKeysError:
            present = []
        stale = [key for key in present if key not in wanted]
        for key in stale:
            await self._kv.delete(key)
        if stale:
            log.info("removed accounts no longer in Postgres", extra={"count": len(stale)})
        return len(stale)

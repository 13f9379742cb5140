"""From an order to the tenant's own exchange session: account, keys, pooled client.

Everything is keyed by the tenant the order belongs to: the account, the Vault path, the
cache entry and the pooled client are all (tenant, label), so no tenant's order can ever be
placed with another tenant's keys, even when both use the same label. Accounts are read from
the in-memory copy of the ``accounts`` bucket (which this service writes), and from Postgres
when the copy does not have them yet.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from libs.common.auth import Lookup
from libs.common.messages import CancelOrders, PlaceOrder
from libs.common.records import AccountRecord, account_key
from services.executor.accounts.store import AccountStore
from services.executor.adapters.clients import ClientPool
from services.executor.adapters.credentials import CredentialCache
from services.executor.adapters.exchange import ExchangeSession
from services.executor.adapters.venues import venue_for
from services.executor.domain import TradingAccount
from services.executor.errors import OrderRejectedError


class Sessions:
    """Resolve accounts and lease their exchange sessions."""

    def __init__(
        self,
        accounts: AccountStore,
        mirror: Lookup[AccountRecord],
        cache: CredentialCache,
        pool: ClientPool,
    ) -> None:
        self._accounts = accounts
        self._mirror = mirror
        self._cache = cache
        self._pool = pool

    async def account(self, command: PlaceOrder | CancelOrders) -> TradingAccount:
        """Return the account the order names, or reject it in words."""
        label = command.account_label
        account = await self.account_of(command.tenant_id, label)
        if account is None:
            raise OrderRejectedError(
                "unknown_account", f"You have no exchange account labelled '{label}'."
            )
        if (account.exchange_id, account.mode) != (command.exchange_id, command.mode):
            raise OrderRejectedError(
                "account_changed",
                f"Account '{label}' is now a {account.mode.value} account on "
                f"{account.exchange_id}, but the order was meant for {command.mode.value} "
                f"trading on {command.exchange_id}; it was not placed.",
            )
        return account

    async def account_of(self, tenant_id: str, label: str) -> TradingAccount | None:
        """Return the tenant's account labelled ``label``, if it has one."""
        record = self._mirror.get(account_key(tenant_id, label)) if self._mirror.ready else None
        if record is not None and record.tenant_id == tenant_id and record.label == label:
            return TradingAccount.of(record)
        found = await self._accounts.get(tenant_id, label)
        return TradingAccount.of(found) if found is not None else None

    @contextlib.asynccontextmanager
    async def lease(self, account: TradingAccount) -> AsyncIterator[ExchangeSession]:
        """Lend the account's exchange session, built with its own keys."""
        venue = venue_for(account.exchange_id, account.market_type)
        if venue is None:
            raise OrderRejectedError(
                "unsupported_exchange", f"'{account.exchange_id}' is not supported."
            )
        credentials = await self._cache.get(
            account.tenant_id, account.label, changed_at=account.changed_at
        )
        key = (account.tenant_id, account.label)
        async with self._pool.lease(key, venue, account.mode, credentials) as session:
            yield session

"""Tenants' exchange accounts: metadata in Postgres, keys in Vault, a copy for the router in
the ``accounts`` bucket. Every change drops the cached keys and the pooled client.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial

from sqlalchemy.ext.asyncio import AsyncConnection

from libs.common.errors import PermanentError, TemporaryError
from libs.common.messages import AccountMode
from libs.common.records import AccountStatus, MarketType, TenantRecord
from services.executor.accounts.store import AccountStore
from services.executor.accounts.validation import Validator
from services.executor.adapters.account_bucket import AccountBucket
from services.executor.adapters.clients import ClientPool
from services.executor.adapters.credentials import CredentialCache, Credentials
from services.executor.adapters.vault import VaultKeys
from services.executor.adapters.venues import supported_exchanges, supports, venue_for
from services.executor.domain import Account
from services.executor.errors import ConflictError, NotFoundError


class PlanLimitError(PermanentError):
    """The tenant's plan does not allow it."""


class ChangeSavedError(TemporaryError):
    """The change is committed, but the caches or the ``accounts`` bucket did not follow; the
    periodic resync repairs the bucket. Never "nothing was changed".
    """


@dataclass(frozen=True, slots=True)
class NewAccount:
    label: str
    exchange_id: str
    mode: AccountMode
    market_type: MarketType
    credentials: Credentials


class AccountService:
    """Add, change, validate and remove accounts, each under Row-Level Security as the tenant."""

    def __init__(
        self,
        *,
        store: AccountStore,
        vault: VaultKeys,
        bucket: AccountBucket,
        cache: CredentialCache,
        pool: ClientPool,
        validator: Validator,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._vault = vault
        self._bucket = bucket
        self._cache = cache
        self._pool = pool
        self._validator = validator
        self._clock = clock

    async def add(self, tenant: TenantRecord, new: NewAccount) -> Account:
        """Record the account and store its keys; nothing is kept if either fails."""
        _check_venue(new)
        if new.mode is AccountMode.LIVE and not tenant.limits.live_trading:
            raise PlanLimitError(
                "live_trading_not_allowed",
                "Your plan allows paper and testnet accounts only; upgrade to add a live one.",
            )
        now = self._clock()
        account = Account(
            tenant_id=tenant.tenant_id,
            label=new.label,
            exchange_id=new.exchange_id,
            mode=new.mode,
            market_type=new.market_type,
            status=AccountStatus.UNVALIDATED,
            status_message=None,
            validated_at=None,
            keys_updated_at=now,
            created_at=now,
            updated_at=now,
        )
        async with self._store.as_tenant(tenant.tenant_id) as conn:
            await self._store.lock_tenant(conn, tenant.tenant_id)
            _check_limit(tenant, await self._store.count(conn))
            await self._store.insert(conn, account)
            await self._vault.write(tenant.tenant_id, new.label, new.credentials)
        await self._announce(tenant.tenant_id, new.label, partial(self._bucket.put, account))
        return account

    async def check_room(self, tenant: TenantRecord, label: str) -> None:
        """Refuse what `add` would refuse for its label or the plan's account limit, before
        anything is opened elsewhere for the account (`add` checks again, under the lock).
        """
        async with self._store.as_tenant(tenant.tenant_id) as conn:
            if await self._store.get(tenant.tenant_id, label, conn) is not None:
                raise ConflictError(
                    "label_taken", f"You already have an account labelled '{label}'."
                )
            _check_limit(tenant, await self._store.count(conn))

    async def get(self, tenant_id: str, label: str) -> Account:
        async with self._store.as_tenant(tenant_id) as conn:
            account = await self._store.get(tenant_id, label, conn)
        if account is None:
            raise NotFoundError("unknown_account", f"You have no account labelled '{label}'.")
        return account

    async def replace_keys(self, tenant_id: str, label: str, credentials: Credentials) -> Account:
        """Store new keys; the account needs validating again."""
        now = self._clock()
        async with self._store.as_tenant(tenant_id) as conn:
            account = await self._locked(conn, tenant_id, label)
            venue = venue_for(account.exchange_id, account.market_type)
            if venue is not None and venue.needs_passphrase and not credentials.passphrase:
                raise ConflictError("passphrase_required", _passphrase_words(account.exchange_id))
            account = replace(
                account,
                status=AccountStatus.UNVALIDATED,
                status_message=None,
                validated_at=None,
                keys_updated_at=now,
                updated_at=now,
            )
            await self._store.save(conn, account)
            await self._vault.write(tenant_id, label, credentials)
        await self._announce(tenant_id, label, partial(self._bucket.put, account))
        return account

    async def of_tenant(self, tenant_id: str) -> list[Account]:
        """Return the tenant's accounts, by label."""
        async with self._store.as_tenant(tenant_id) as conn:
            return await self._store.visible(conn)

    async def validate(
        self, tenant_id: str, label: str, credentials: Credentials | None = None
    ) -> Account:
        """Ask the exchange whether the keys work (the stored ones unless given), and record
        the answer.
        """
        account = await self.get(tenant_id, label)
        if credentials is None:
            credentials = await self._vault.read(tenant_id, label)
        status, message = await self._validator.check(account, credentials)
        return await self.set_status(tenant_id, label, status, message)

    async def validate_new(self, account: Account, credentials: Credentials) -> Account:
        """Validate keys just stored; trouble recording the answer leaves them unvalidated."""
        try:
            return await self.validate(account.tenant_id, account.label, credentials)
        except TemporaryError:
            return account

    async def set_status(
        self, tenant_id: str, label: str, status: AccountStatus, message: str | None
    ) -> Account:
        """Record a validation outcome (also used when trading finds the keys refused)."""
        now = self._clock()
        async with self._store.as_tenant(tenant_id) as conn:
            account = await self._locked(conn, tenant_id, label)
            validated_at = now if status is not AccountStatus.UNVALIDATED else None
            account = replace(
                account,
                status=status,
                status_message=message,
                validated_at=validated_at,
                updated_at=now,
            )
            await self._store.save(conn, account)
        await self._announce(tenant_id, label, partial(self._bucket.put, account), forget=False)
        return account

    async def remove(self, tenant_id: str, label: str) -> None:
        """Delete the account, its keys and the router's copy."""
        async with self._store.as_tenant(tenant_id) as conn:
            if not await self._store.delete(conn, tenant_id, label):
                raise NotFoundError("unknown_account", f"You have no account labelled '{label}'.")
            await self._vault.delete(tenant_id, label)
        await self._announce(tenant_id, label, partial(self._bucket.delete, tenant_id, label))

    async def purge_tenant(self, tenant_id: str, also: Iterable[str] = ()) -> list[str]:
        """Delete every account of a deleted tenant: rows, strategy positions, every version
        and the metadata of its keys in Vault, and the router's copies (with those of ``also``,
        labels only the bucket still knows). Return the labels whose rows it deleted; a second
        call finds nothing to delete and changes nothing.
        """
        async with self._store.as_tenant(tenant_id) as conn:
            await self._store.lock_tenant(conn, tenant_id)
            labels = [account.label for account in await self._store.visible(conn)]
            for label in labels:
                await self._store.delete(conn, tenant_id, label)
                await self._vault.delete(tenant_id, label)  # before the commit: a retry redoes
        for label in sorted({*labels, *also}):
            await self._announce(tenant_id, label, partial(self._bucket.delete, tenant_id, label))
        return labels

    async def _locked(self, conn: AsyncConnection, tenant_id: str, label: str) -> Account:
        account = await self._store.get(tenant_id, label, conn, for_update=True)
        if account is None:
            raise NotFoundError("unknown_account", f"You have no account labelled '{label}'.")
        return account

    async def _announce(
        self,
        tenant_id: str,
        label: str,
        publish: Callable[[], Awaitable[None]],
        *,
        forget: bool = True,
    ) -> None:
        """After the commit: drop cached keys and clients, tell the router (the bucket)."""
        try:
            if forget:
                await self._forget(tenant_id, label)
            await publish()
        except Exception as exc:  # after the commit, any failure leaves the change saved
            raise ChangeSavedError(f"account saved, not announced: {type(exc).__name__}") from exc

    async def _forget(self, tenant_id: str, label: str) -> None:
        self._cache.drop(tenant_id, label)
        await self._pool.discard((tenant_id, label))


def _check_venue(new: NewAccount) -> None:
    venue = venue_for(new.exchange_id, new.market_type)
    if venue is None or not supports(venue, new.mode):
        choices = ", ".join(supported_exchanges(new.mode, new.market_type)) or "none yet"
        market = "futures " if new.market_type is MarketType.FUTURES else ""
        raise ConflictError(
            "unsupported_exchange",
            f"'{new.exchange_id}' is not supported for {new.mode.value} {market}accounts; "
            f"supported: {choices}.",
        )
    if venue.needs_passphrase and not new.credentials.passphrase:
        raise ConflictError("passphrase_required", _passphrase_words(new.exchange_id))


def _passphrase_words(exchange_id: str) -> str:
    return f"{exchange_id} API keys come with a passphrase; send it as 'passphrase'."


def _check_limit(tenant: TenantRecord, existing: int) -> None:
    limit = tenant.limits.max_exchange_accounts
    if limit is not None and existing >= limit:
        raise PlanLimitError(
            "account_limit",
            f"Your plan allows {limit} exchange account{'s' if limit != 1 else ''}; remove one "
            "or upgrade to add another.",
        )

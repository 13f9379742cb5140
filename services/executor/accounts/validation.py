"""Check an account's API keys against its exchange with a balance fetch.

A throwaway client is used (never the pool's), so keys that do not work are never pooled.
The answer is in words: why the exchange refused the keys, or that it could not be asked.
"""

from __future__ import annotations

import contextlib

from libs.common.errors import PermanentError, TemporaryError
from libs.common.records import AccountStatus
from services.executor.adapters.clients import ClientPool, new_client
from services.executor.adapters.credentials import REDACTION_HOLDS, Credentials
from services.executor.adapters.exchange import ExchangeSession
from services.executor.adapters.venues import venue_for
from services.executor.domain import Account
from services.executor.errors import AccountAuthError

Outcome = tuple[AccountStatus, str | None]


class Validator:
    """Ask the exchange whether keys work."""

    def __init__(self, pool: ClientPool) -> None:
        self._pool = pool

    async def check(self, account: Account, credentials: Credentials) -> Outcome:
        """Return the account's status and, unless valid, the reason in words."""
        venue = venue_for(account.exchange_id, account.market_type)
        if venue is None:
            return AccountStatus.INVALID, f"'{account.exchange_id}' is not supported."
        REDACTION_HOLDS.hold(credentials.secrets())
        pool = self._pool
        client = new_client(
            venue, account.mode, pool.settings, credentials, http=pool.http, budgets=pool.budgets
        )
        try:
            await self._pool.markets.share(venue, account.mode, client)
            await ExchangeSession(client, venue).balance()
        except AccountAuthError as exc:
            return AccountStatus.INVALID, exc.message
        except TemporaryError as exc:
            return (
                AccountStatus.UNVALIDATED,
                f"Could not reach the exchange to check the keys: {exc.message}",
            )
        except PermanentError as exc:
            return (
                AccountStatus.UNVALIDATED,
                f"The exchange did not confirm the keys: {exc.message}",
            )
        finally:
            with contextlib.suppress(Exception):
                await client.close()
            REDACTION_HOLDS.release(credentials.secrets())
        return AccountStatus.VALID, None

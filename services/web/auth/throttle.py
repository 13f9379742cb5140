"""Sign-in throttling: failures counted per account (the email, known or not) and per client
address in a sliding window; over either limit, sign-in is refused until the window moves.

Counting an unknown email like a known one keeps the throttle from telling which exist. The
keys are SHA-256 digests: the table holds no address and no email.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa

from services.web.crypto import digest
from services.web.database import Database
from services.web.tables import login_attempts

ACCOUNT, ADDRESS = "account", "address"


class Throttle:
    """Count failed sign-ins and say when to refuse."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        *,
        window: timedelta,
        per_account: int,
        per_address: int,
    ) -> None:
        self._db, self._clock, self._window = db, clock, window
        self._limits = {ACCOUNT: per_account, ADDRESS: per_address}

    async def blocked(self, email_key: str, address: str) -> bool:
        """Whether the account or the address has used up its failures in the window."""
        since = self._clock() - self._window
        keys = {ACCOUNT: digest("account:" + email_key), ADDRESS: digest("address:" + address)}
        async with self._db.anonymous() as conn:
            for kind, key in keys.items():
                count = await conn.scalar(
                    sa.select(sa.func.count()).where(
                        login_attempts.c.kind == kind,
                        login_attempts.c.key_sha256 == key,
                        login_attempts.c.at > since,
                    )
                )
                if (count or 0) >= self._limits[kind]:
                    return True
        return False

    async def failed(self, email_key: str, address: str) -> None:
        """Record a failed sign-in; forget failures older than the window."""
        now = self._clock()
        rows = [
            {"kind": ACCOUNT, "key_sha256": digest("account:" + email_key), "at": now},
            {"kind": ADDRESS, "key_sha256": digest("address:" + address), "at": now},
        ]
        async with self._db.anonymous() as conn:
            await conn.execute(login_attempts.insert(), rows)
            await conn.execute(
                login_attempts.delete().where(login_attempts.c.at < now - self._window)
            )

    async def succeeded(self, email_key: str) -> None:
        """Clear the account's failures (the address keeps its own)."""
        async with self._db.anonymous() as conn:
            await conn.execute(
                login_attempts.delete().where(
                    login_attempts.c.kind == ACCOUNT,
                    login_attempts.c.key_sha256 == digest("account:" + email_key),
                )
            )

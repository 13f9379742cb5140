"""Throttling in a sliding window, per account and per client address; over either limit the
action is refused until the window moves.

Sign-in counts its failures per account (the email, known or not: counting an unknown email
like a known one keeps the throttle from telling which exist) and per address. Resending the
verification link counts every resend per user and per address (`RESEND_KINDS`), so a
signed-in session cannot make the app mail an inbox without end. Sign-up counts every form per
email and per address (`SIGNUP_KINDS`): each form may mail the address (the link again, or
"someone tried to sign up"), so nobody can flood an inbox through the sign-up form. The keys
are SHA-256 digests: the table holds no address and no email.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa

from services.web.crypto import digest
from services.web.store import Database, login_attempts

ACCOUNT, ADDRESS = "account", "address"
RESEND_KINDS = ("rs_user", "rs_addr")  # the kind column holds 8 characters
SIGNUP_KINDS = ("su_mail", "su_addr")


class Throttle:
    """Count attempts and say when to refuse. ``kinds`` names the account's and the address's
    counts (sign-in's by default); each throttle of the app has kinds of its own."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        *,
        window: timedelta,
        per_account: int,
        per_address: int,
        kinds: tuple[str, str] = (ACCOUNT, ADDRESS),
    ) -> None:
        self._db, self._clock, self._window = db, clock, window
        self._kinds = kinds
        self._limits = dict(zip(kinds, (per_account, per_address), strict=True))

    def _keys(self, account_key: str, address: str) -> dict[str, str]:
        account, network = self._kinds
        return {
            account: digest(f"{account}:{account_key}"),
            network: digest(f"{network}:{address}"),
        }

    async def blocked(self, account_key: str, address: str) -> bool:
        """Whether the account or the address has used up its attempts in the window."""
        since = self._clock() - self._window
        async with self._db.anonymous() as conn:
            for kind, key in self._keys(account_key, address).items():
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

    async def record(self, account_key: str, address: str) -> None:
        """Count one attempt (a failed sign-in, a resent link); forget this throttle's
        attempts older than its window."""
        now = self._clock()
        keys = self._keys(account_key, address)
        rows = [{"kind": kind, "key_sha256": key, "at": now} for kind, key in keys.items()]
        async with self._db.anonymous() as conn:
            await conn.execute(login_attempts.insert(), rows)
            await conn.execute(
                login_attempts.delete().where(
                    login_attempts.c.kind.in_(self._kinds),
                    login_attempts.c.at < now - self._window,
                )
            )

    async def succeeded(self, account_key: str) -> None:
        """Clear the account's attempts (the address keeps its own)."""
        account = self._kinds[0]
        async with self._db.anonymous() as conn:
            await conn.execute(
                login_attempts.delete().where(
                    login_attempts.c.kind == account,
                    login_attempts.c.key_sha256 == digest(f"{account}:{account_key}"),
                )
            )

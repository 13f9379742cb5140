"""The users table and the mail-link tokens: every read and write as that user (RLS)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from services.web.crypto import digest, new_token
from services.web.errors import EmailTakenError
from services.web.store import Database, email_tokens, users


class Purpose(StrEnum):
    """What a mailed link does."""

    VERIFY = "verify"
    RESET = "reset"


@dataclass(frozen=True)
class User:
    """A user's row, secrets still sealed."""

    user_id: str
    email: str
    name: str
    password_hash: str
    verified: bool
    tenant_id: str | None
    totp_secret_sealed: bytes | None
    totp_enabled: bool
    totp_last_step: int | None


def email_key(email: str) -> str:
    """Return the form emails are compared in (case-insensitive, trimmed)."""
    return email.strip().lower()


class Users:
    """Users and their mail-link tokens."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self._db, self._clock = db, clock

    async def find(self, email: str) -> User | None:
        """Return the user of ``email`` (any case), or None."""
        user_id = await self._db.user_by("web_user_by_email", email_key(email))
        return None if user_id is None else await self.get(user_id)

    async def get(self, user_id: str) -> User | None:
        """Return the user ``user_id``, or None."""
        async with self._db.as_user(user_id) as conn:
            row = (
                await conn.execute(sa.select(users).where(users.c.user_id == user_id))
            ).one_or_none()
        if row is None:
            return None
        return User(
            user_id=row.user_id,
            email=row.email,
            name=row.name,
            password_hash=row.password_hash,
            verified=row.verified_at is not None,
            tenant_id=row.tenant_id,
            totp_secret_sealed=row.totp_secret_sealed,
            totp_enabled=row.totp_enabled,
            totp_last_step=row.totp_last_step,
        )

    async def create(self, user_id: str, email: str, name: str, password_hash: str) -> None:
        """Add an unverified user without a tenant yet; raise `EmailTakenError`."""
        row = {
            "user_id": user_id,
            "email": email.strip(),
            "email_key": email_key(email),
            "name": name,
            "password_hash": password_hash,
            "created_at": self._clock(),
            "totp_enabled": False,
        }
        try:
            async with self._db.as_user(user_id) as conn:
                await conn.execute(users.insert().values(row))
        except IntegrityError as exc:
            raise EmailTakenError(email) from exc

    async def update(self, user_id: str, **values: object) -> None:
        """Change columns of ``user_id``'s row."""
        async with self._db.as_user(user_id) as conn:
            await conn.execute(users.update().where(users.c.user_id == user_id).values(**values))

    async def mark_verified(self, user_id: str) -> None:
        """Record that the user proved the email is theirs (first time only)."""
        async with self._db.as_user(user_id) as conn:
            await conn.execute(
                users.update()
                .where(users.c.user_id == user_id, users.c.verified_at.is_(None))
                .values(verified_at=self._clock())
            )

    async def use_totp_step(self, user_id: str, step: int) -> bool:
        """Record ``step`` as used; False if it (or a later one) was used already (a replay)."""
        async with self._db.as_user(user_id) as conn:
            result = await conn.execute(
                users.update()
                .where(
                    users.c.user_id == user_id,
                    sa.or_(users.c.totp_last_step.is_(None), users.c.totp_last_step < step),
                )
                .values(totp_last_step=step)
            )
        return result.rowcount == 1

    async def issue_token(self, user_id: str, purpose: Purpose, ttl: timedelta) -> str:
        """Return a new single-use link token; earlier unused ones of ``purpose`` end."""
        token, now = new_token(), self._clock()
        async with self._db.as_user(user_id) as conn:
            await conn.execute(
                email_tokens.update()
                .where(
                    email_tokens.c.user_id == user_id,
                    email_tokens.c.purpose == purpose.value,
                    email_tokens.c.used_at.is_(None),
                )
                .values(used_at=now)
            )
            await conn.execute(
                email_tokens.insert().values(
                    token_sha256=digest(token),
                    user_id=user_id,
                    purpose=purpose.value,
                    created_at=now,
                    expires_at=now + ttl,
                )
            )
        return token

    async def consume_token(self, token: str, purpose: Purpose) -> str | None:
        """Use up ``token``; return its user, or None (unknown, used, expired, other purpose)."""
        token_digest = digest(token)
        user_id = await self._db.user_by("web_user_by_email_token", token_digest)
        if user_id is None:
            return None
        now = self._clock()
        async with self._db.as_user(user_id) as conn:
            result = await conn.execute(
                email_tokens.update()
                .where(
                    email_tokens.c.token_sha256 == token_digest,
                    email_tokens.c.purpose == purpose.value,
                    email_tokens.c.used_at.is_(None),
                    email_tokens.c.expires_at > now,
                )
                .values(used_at=now)
            )
        return user_id if result.rowcount == 1 else None

    async def token_usable(self, token: str, purpose: Purpose) -> bool:
        """Whether ``token`` would be accepted now (to show the reset form, not use it)."""
        token_digest = digest(token)
        user_id = await self._db.user_by("web_user_by_email_token", token_digest)
        if user_id is None:
            return False
        async with self._db.as_user(user_id) as conn:
            found = await conn.scalar(
                sa.select(sa.func.count()).where(
                    email_tokens.c.token_sha256 == token_digest,
                    email_tokens.c.purpose == purpose.value,
                    email_tokens.c.used_at.is_(None),
                    email_tokens.c.expires_at > self._clock(),
                )
            )
        return bool(found)

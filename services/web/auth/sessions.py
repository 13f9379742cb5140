"""Sessions: a random bearer token in the ``sparky_session`` cookie, its SHA-256 in the table.

A session ends at ``expires_at`` (its lifetime), after ``session_idle_hours`` unused, when its
user signs out, or when they sign out everywhere (every session revoked at once).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from services.web.crypto import digest, new_token
from services.web.store import Database, sessions, users

_TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often


@dataclass(frozen=True)
class ActiveSession:
    """A live session and what the pages need to know about its user."""

    session_id: str
    user_id: str
    email: str
    tenant_id: str | None
    verified: bool
    totp_enabled: bool


class Sessions:
    """Open, resolve and revoke sessions."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        *,
        lifetime: timedelta,
        idle: timedelta,
    ) -> None:
        self._db, self._clock = db, clock
        self._lifetime, self._idle = lifetime, idle

    async def open(self, user_id: str) -> str:
        """Start a session for ``user_id``; return its token (for the cookie only)."""
        token, now = new_token(), self._clock()
        row = {
            "session_id": secrets.token_hex(16),
            "token_sha256": digest(token),
            "user_id": user_id,
            "created_at": now,
            "last_seen_at": now,
            "expires_at": now + self._lifetime,
        }
        async with self._db.as_user(user_id) as conn:
            await conn.execute(sessions.insert().values(row))
        return token

    async def resolve(self, token: str) -> ActiveSession | None:
        """Return the live session ``token`` opens, or None (unknown, ended or revoked)."""
        token_digest = digest(token)
        user_id = await self._db.user_by("web_user_by_session", token_digest)
        if user_id is None:
            return None
        now = self._clock()
        async with self._db.as_user(user_id) as conn:
            row = (
                await conn.execute(
                    sa.select(sessions, users.c.email, users.c.tenant_id)
                    .add_columns(users.c.verified_at, users.c.totp_enabled)
                    .join(users, users.c.user_id == sessions.c.user_id)
                    .where(sessions.c.token_sha256 == token_digest)
                )
            ).one_or_none()
            if row is None or not self._live(row, now):
                return None
            if now - row.last_seen_at >= _TOUCH_EVERY:
                await conn.execute(
                    sessions.update()
                    .where(sessions.c.session_id == row.session_id)
                    .values(last_seen_at=now)
                )
        return ActiveSession(
            session_id=row.session_id,
            user_id=user_id,
            email=row.email,
            tenant_id=row.tenant_id,
            verified=row.verified_at is not None,
            totp_enabled=row.totp_enabled,
        )

    def _live(self, row: sa.Row[Any], now: datetime) -> bool:
        return (
            row.revoked_at is None and row.expires_at > now and now - row.last_seen_at < self._idle
        )

    async def revoke(self, user_id: str, session_id: str) -> None:
        """End one session (sign out)."""
        async with self._db.as_user(user_id) as conn:
            await conn.execute(
                sessions.update()
                .where(sessions.c.session_id == session_id, sessions.c.revoked_at.is_(None))
                .values(revoked_at=self._clock())
            )

    async def revoke_all(self, user_id: str) -> int:
        """End every session of ``user_id`` (sign out everywhere); return how many."""
        async with self._db.as_user(user_id) as conn:
            result = await conn.execute(
                sessions.update()
                .where(sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None))
                .values(revoked_at=self._clock())
            )
        return result.rowcount

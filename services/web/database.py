"""Connections to the web schema, as one user (RLS) or before anyone is known."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

_AS_USER = text("SELECT set_config('sparky.web_user_id', :user_id, true)")


class Database:
    """The web schema's engine, with the transactions the store needs."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @asynccontextmanager
    async def as_user(self, user_id: str) -> AsyncIterator[AsyncConnection]:
        """Yield a transaction that sees and changes ``user_id``'s rows only."""
        async with self.engine.begin() as conn:
            await conn.execute(_AS_USER, {"user_id": user_id})
            yield conn

    @asynccontextmanager
    async def anonymous(self) -> AsyncIterator[AsyncConnection]:
        """Yield a transaction that sees no user's rows (lookups, sign-in attempts)."""
        async with self.engine.begin() as conn:
            yield conn

    async def user_by(self, function: str, value: str) -> str | None:
        """Return the user id a ``SECURITY DEFINER`` lookup finds for ``value``, if any."""
        if function not in {"web_user_by_email", "web_user_by_session", "web_user_by_email_token"}:
            raise ValueError(f"no lookup {function}")
        async with self.engine.connect() as conn:
            found = await conn.scalar(text(f"SELECT {function}(:v)"), {"v": value})
        return None if found is None else str(found)

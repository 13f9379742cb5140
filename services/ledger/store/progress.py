"""How far the projections got, and who may move them: the stream position, poison set
aside, the projector's lock, and what no retry can apply.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger.domain.rows import Poison
from services.ledger.store.mapping import POISON
from services.ledger.store.tables import metadata

# SQLSTATE classes of a value Postgres refuses (22: data exception, e.g. a NUL in text;
# 23: a constraint): retrying cannot help, so the event is set aside as poison instead of
# wedging the projector. Anything else (connection lost, a bug) restarts the projector.
_REFUSED_VALUE = frozenset({"22", "23"})


def cannot_apply(exc: BaseException) -> bool:
    """Whether ``exc`` says an event can never be applied, however often we retry."""
    if isinstance(exc, ArithmeticError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate[:2] in _REFUSED_VALUE


# Every table of the schema: each is derived from the stream.
PROJECTION_TABLES = tuple(table.name for table in metadata.sorted_tables)

_TRY_LOCK = text("SELECT pg_try_advisory_lock(hashtext(:key))")
_UNLOCK = text("SELECT pg_advisory_unlock(hashtext(:key))")
_AS_ROLE = text("SELECT set_config('role', :role, true)")

SAVE_PROGRESS = (
    "INSERT INTO projector_state (stream, last_seq, last_occurred_at) "
    "VALUES (:stream, :seq, :at) ON CONFLICT (stream) DO UPDATE SET "
    "last_seq = GREATEST(projector_state.last_seq, EXCLUDED.last_seq), "
    "last_occurred_at = COALESCE(EXCLUDED.last_occurred_at, projector_state.last_occurred_at)"
)


def progress(stream: str, seq: int, at: datetime | None) -> dict[str, object]:
    """Return the parameters of `SAVE_PROGRESS`."""
    return {"stream": stream, "seq": seq, "at": at}


async def record_poison(conn: AsyncConnection, poison: Poison, *, role: str, stream: str) -> None:
    """Set one message aside as poison and move the stream position past it."""
    async with conn.begin():
        await conn.execute(_AS_ROLE, {"role": role})
        await conn.execute(POISON.insert(), POISON.params([poison]))
        await conn.execute(text(SAVE_PROGRESS), progress(stream, poison.seq, None))


async def last_applied_seq(conn: AsyncConnection, stream: str, *, role: str) -> int:
    """Return the last stream sequence the projections include (0 before the first), read as
    ``role`` (the runtime login itself holds no right on the tables).
    """
    async with conn.begin():
        await conn.execute(_AS_ROLE, {"role": role})
        result = await conn.execute(
            text("SELECT last_seq FROM projector_state WHERE stream = :stream"), {"stream": stream}
        )
        return int(result.scalar() or 0)


async def truncate_projections(conn: AsyncConnection) -> None:
    """Empty every projection and the record of applied events (as the tables' owner)."""
    async with conn.begin():
        await conn.execute(text(f"TRUNCATE {', '.join(PROJECTION_TABLES)}"))


async def try_lock(conn: AsyncConnection, key: str) -> bool:
    """Take the session-level lock ``key`` if free: only its holder may project."""
    async with conn.begin():
        return bool((await conn.execute(_TRY_LOCK, {"key": key})).scalar())


async def unlock(conn: AsyncConnection, key: str) -> None:
    """Release the lock ``key`` taken by `try_lock` on this connection."""
    async with conn.begin():
        await conn.execute(_UNLOCK, {"key": key})

"""Operators and the audit of their actions in Postgres (token digests only, never tokens)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.billing.domain.operators import BOOTSTRAP, AuditEntry, AuditQuery, Operator, Recorded
from services.billing.errors import ConflictError
from services.billing.store.tables import operator_audit, operators


async def insert_operator(conn: AsyncConnection, operator: Operator) -> None:
    """Add an operator; raise `ConflictError` if a live one has its name."""
    try:
        await conn.execute(insert(operators).values(**operator.model_dump()))
    except IntegrityError as exc:
        raise ConflictError(
            f"There is already an operator named {operator.name!r}; choose another name."
        ) from exc


async def live_by_digest(conn: AsyncConnection, digest: str) -> Operator | None:
    """Return the live operator whose token has ``digest``."""
    query = select(operators).where(operators.c.digest == digest, operators.c.revoked_at.is_(None))
    row = (await conn.execute(query)).mappings().first()
    return Operator.model_validate(row) if row else None


async def live_bootstrap(conn: AsyncConnection) -> Operator | None:
    """Return the bootstrap operator, unless it was revoked."""
    found = await live_by_name(conn, BOOTSTRAP)
    return found if found is not None and found.bootstrap else None


async def live_by_name(
    conn: AsyncConnection, name: str, *, for_update: bool = False
) -> Operator | None:
    """Return the live operator named ``name``."""
    query = select(operators).where(operators.c.name == name, operators.c.revoked_at.is_(None))
    row = (await conn.execute(query.with_for_update() if for_update else query)).mappings().first()
    return Operator.model_validate(row) if row else None


async def list_operators(conn: AsyncConnection, *, include_revoked: bool) -> list[Operator]:
    """Return the operators, oldest first."""
    query = select(operators).order_by(operators.c.created_at, operators.c.operator_id)
    if not include_revoked:
        query = query.where(operators.c.revoked_at.is_(None))
    return [Operator.model_validate(row) for row in (await conn.execute(query)).mappings()]


async def count_live(conn: AsyncConnection) -> int:
    """Return how many operators can act (the bootstrap one included while it is live)."""
    query = select(func.count()).where(operators.c.revoked_at.is_(None))
    return int((await conn.execute(query)).scalar_one())


async def revoke(conn: AsyncConnection, operator_id: str, by: str, now: datetime) -> None:
    """Mark an operator revoked: its token is refused from the next request on."""
    query = update(operators).where(operators.c.operator_id == operator_id)
    await conn.execute(query.values(revoked_at=now, revoked_by=by))


async def append(conn: AsyncConnection, entry: AuditEntry) -> None:
    """Append one entry to the audit log."""
    await conn.execute(insert(operator_audit).values(**entry.model_dump()))


async def page(conn: AsyncConnection, query: AuditQuery) -> list[Recorded]:
    """Return the entries ``query`` selects, in the order they were written."""
    c = operator_audit.c
    found = select(operator_audit).order_by(c.audit_id).limit(query.limit)
    conditions = [
        c.audit_id > query.after if query.after is not None else None,
        c.operator == query.operator if query.operator is not None else None,
        c.tenant_id == query.tenant_id if query.tenant_id is not None else None,
        c.at >= query.start if query.start is not None else None,
        c.at < query.end if query.end is not None else None,
    ]
    for condition in conditions:
        if condition is not None:
            found = found.where(condition)
    return [Recorded.model_validate(row) for row in (await conn.execute(found)).mappings()]

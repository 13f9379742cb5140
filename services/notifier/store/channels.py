"""Channels and the tenant keys the notifier holds: rows in, records out.

Functions that take a connection work in the caller's transaction (`Database.as_tenant` for
the API, `Database.as_writer` for the consumer, the sender and the bot), so a caller can make
several changes atomically.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.common.ids import new_id
from libs.common.sealing import DataBox
from services.notifier.channels.base import Target
from services.notifier.domain.kinds import ChannelKind
from services.notifier.sealing import api_key_context, secret_context, target_context
from services.notifier.store.tables import channels, tenant_keys

PENDING = "pending_verification"
ACTIVE = "active"
DEAD = "dead"


@dataclass(frozen=True, slots=True)
class ChannelRecord:
    """A channel as the API shows it (the target masked, no secret)."""

    channel_id: str
    tenant_id: str
    kind: ChannelKind
    target: str
    status: str
    dead_reason: str | None
    events: tuple[str, ...]
    quiet: bool
    daily_summary: bool
    created_at: datetime
    chat_id: int | None = None


@dataclass(frozen=True, slots=True)
class NewChannel:
    """What a new channel is made of; ``address``/``secret`` are sealed on the way in."""

    kind: ChannelKind
    address: str
    masked: str
    events: tuple[str, ...]
    quiet: bool = False
    daily_summary: bool = False
    secret: str | None = None
    status: str = PENDING
    chat_id: int | None = None
    verify_code_digest: str | None = None
    verify_expires_at: datetime | None = None


def target_key(kind: ChannelKind, address: str) -> str:
    """The digest that makes a target unique per tenant (an email address in any case)."""
    normal = address.strip().lower() if kind is ChannelKind.EMAIL else address.strip()
    return hashlib.sha256(f"{kind}:{normal}".encode()).hexdigest()


def code_digest(code: str) -> str:
    """The digest kept of a verification or link code."""
    return hashlib.sha256(code.encode()).hexdigest()


def record_of(row: Any) -> ChannelRecord:
    return ChannelRecord(
        channel_id=row.channel_id,
        tenant_id=row.tenant_id,
        kind=ChannelKind(row.kind),
        target=row.target_masked,
        status=row.status,
        dead_reason=row.dead_reason,
        events=tuple(row.events),
        quiet=row.quiet,
        daily_summary=row.daily_summary,
        created_at=row.created_at,
        chat_id=row.chat_id,
    )


def target_of(row: Any, box: DataBox) -> Target:
    """Open a channel row's target (and signing secret) for a send."""
    secret = None
    if row.secret_sealed is not None:
        secret = box.open(row.secret_sealed, secret_context(row.channel_id))
    return Target(
        channel_id=row.channel_id,
        tenant_id=row.tenant_id,
        kind=ChannelKind(row.kind),
        address=box.open(row.target_sealed, target_context(row.channel_id)),
        secret=secret,
    )


async def insert_channel(
    conn: AsyncConnection, box: DataBox, tenant_id: str, new: NewChannel, now: datetime
) -> ChannelRecord | None:
    """Add a channel; return None when the tenant has one for that target already."""
    channel_id = new_id()
    row = {
        "channel_id": channel_id,
        "tenant_id": tenant_id,
        "kind": new.kind.value,
        "status": new.status,
        "target_sealed": box.seal(new.address, target_context(channel_id)),
        "target_masked": new.masked,
        "target_key": target_key(new.kind, new.address),
        "secret_sealed": (
            None if new.secret is None else box.seal(new.secret, secret_context(channel_id))
        ),
        "chat_id": new.chat_id,
        "events": list(new.events),
        "quiet": new.quiet,
        "daily_summary": new.daily_summary,
        "verify_code_digest": new.verify_code_digest,
        "verify_tries": 0,
        "verify_expires_at": new.verify_expires_at,
        "next_send_at": now,
        "failures": 0,
        "created_at": now,
        "updated_at": now,
    }
    statement = (
        insert(channels)
        .values(row)
        .on_conflict_do_nothing(constraint="channels_one_per_target")
        .returning(*channels.c)
    )
    inserted = (await conn.execute(statement)).first()
    return None if inserted is None else record_of(inserted)


async def list_channels(conn: AsyncConnection, tenant_id: str) -> list[ChannelRecord]:
    rows = await conn.execute(
        sa.select(channels)
        .where(channels.c.tenant_id == tenant_id)
        .order_by(channels.c.created_at, channels.c.channel_id)
    )
    return [record_of(row) for row in rows]


async def channel_row(conn: AsyncConnection, tenant_id: str, channel_id: str) -> Any | None:
    """Return the full row of one of ``tenant_id``'s channels (sealed values included)."""
    statement = sa.select(channels).where(
        channels.c.tenant_id == tenant_id, channels.c.channel_id == channel_id
    )
    return (await conn.execute(statement)).first()


async def update_channel(
    conn: AsyncConnection, tenant_id: str, channel_id: str, now: datetime, **values: Any
) -> ChannelRecord | None:
    statement = (
        channels.update()
        .where(channels.c.tenant_id == tenant_id, channels.c.channel_id == channel_id)
        .values(updated_at=now, **values)
        .returning(*channels.c)
    )
    row = (await conn.execute(statement)).first()
    return None if row is None else record_of(row)


async def delete_channel(conn: AsyncConnection, tenant_id: str, channel_id: str) -> bool:
    statement = channels.delete().where(
        channels.c.tenant_id == tenant_id, channels.c.channel_id == channel_id
    )
    return (await conn.execute(statement)).rowcount > 0


async def count_channels(conn: AsyncConnection, tenant_id: str) -> int:
    statement = sa.select(sa.func.count()).where(channels.c.tenant_id == tenant_id)
    return int(await conn.scalar(statement) or 0)


async def mark_dead(conn: AsyncConnection, channel_id: str, reason: str, now: datetime) -> bool:
    """Mark a channel dead with ``reason``; return whether it was not dead already."""
    statement = (
        channels.update()
        .where(channels.c.channel_id == channel_id, channels.c.status != DEAD)
        .values(status=DEAD, dead_reason=reason[:300], updated_at=now)
    )
    return (await conn.execute(statement)).rowcount > 0


async def active_channels(conn: AsyncConnection, tenant_ids: Sequence[str]) -> list[Any]:
    """Return the active channels of ``tenant_ids`` (the consumer's fan-out)."""
    statement = sa.select(
        channels.c.channel_id,
        channels.c.tenant_id,
        channels.c.kind,
        channels.c.events,
        channels.c.quiet,
    ).where(channels.c.tenant_id.in_(list(tenant_ids)), channels.c.status == ACTIVE)
    return list(await conn.execute(statement))


# --- The tenant key the notifier acts with -----------------------------------------------------
async def kept_key(conn: AsyncConnection, box: DataBox, tenant_id: str) -> tuple[str, str] | None:
    """Return ``(key_id, api_key)`` the notifier holds for ``tenant_id``, if any."""
    row = (
        await conn.execute(sa.select(tenant_keys).where(tenant_keys.c.tenant_id == tenant_id))
    ).first()
    if row is None:
        return None
    return row.key_id, box.open(row.key_sealed, api_key_context(tenant_id))


async def keep_key(
    conn: AsyncConnection, box: DataBox, tenant_id: str, *, key_id: str, key: str, now: datetime
) -> None:
    sealed = box.seal(key, api_key_context(tenant_id))
    statement = (
        insert(tenant_keys)
        .values(tenant_id=tenant_id, key_id=key_id, key_sealed=sealed, created_at=now)
        .on_conflict_do_update(
            index_elements=["tenant_id"],
            set_={"key_id": key_id, "key_sealed": sealed, "created_at": now},
        )
    )
    await conn.execute(statement)


async def forget_key(conn: AsyncConnection, tenant_id: str) -> str | None:
    """Drop the kept key; return its id (to revoke it at billing)."""
    statement = (
        tenant_keys.delete()
        .where(tenant_keys.c.tenant_id == tenant_id)
        .returning(tenant_keys.c.key_id)
    )
    return await conn.scalar(statement)

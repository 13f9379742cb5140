"""The bot's rows: handled updates, linked chats (the notifier's telegram channels), signal
sources. Each function works in the caller's transaction (`Database.as_writer` for the bot,
`as_tenant` for the signal-source API).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.common.ids import new_id
from libs.common.sealing import DataBox
from services.notifier.domain.kinds import DEFAULT_KINDS, ChannelKind
from services.notifier.sealing import webhook_token_context
from services.notifier.store.channels import ACTIVE, NewChannel, insert_channel, target_key
from services.notifier.store.tables import channels, link_codes, signal_sources, telegram_updates


async def first_time(conn: AsyncConnection, update_id: int, now: datetime) -> bool:
    """Record ``update_id`` as handled; return False when it was handled before."""
    statement = (
        insert(telegram_updates)
        .values(update_id=update_id, handled_at=now)
        .on_conflict_do_nothing()
        .returning(telegram_updates.c.update_id)
    )
    return (await conn.execute(statement)).first() is not None


async def forget_updates_before(conn: AsyncConnection, before: datetime) -> None:
    """Drop handled ids older than Telegram keeps updates (24 h) with a margin."""
    await conn.execute(telegram_updates.delete().where(telegram_updates.c.handled_at < before))


async def use_link_code(
    conn: AsyncConnection, digest: str, chat_id: int, now: datetime
) -> str | None:
    """Spend a link code; return its tenant, or None if unknown, used or expired."""
    statement = (
        link_codes.update()
        .where(
            link_codes.c.code_digest == digest,
            link_codes.c.used_at.is_(None),
            link_codes.c.expires_at > now,
        )
        .values(used_at=now, chat_id=chat_id)
        .returning(link_codes.c.tenant_id)
    )
    tenant: str | None = (await conn.execute(statement)).scalar()
    return tenant


async def link_chat(
    conn: AsyncConnection,
    box: DataBox,
    tenant_id: str,
    chat_id: int,
    *,
    title: str,
    now: datetime,
) -> None:
    """Make ``chat_id`` an active telegram channel of ``tenant_id`` (again, if it was dead)."""
    new = NewChannel(
        kind=ChannelKind.TELEGRAM,
        address=str(chat_id),
        masked=title,
        events=DEFAULT_KINDS,
        status=ACTIVE,
        chat_id=chat_id,
    )
    if await insert_channel(conn, box, tenant_id, new, now) is not None:
        return
    await conn.execute(
        channels.update()
        .where(
            channels.c.tenant_id == tenant_id,
            channels.c.kind == ChannelKind.TELEGRAM.value,
            channels.c.target_key == target_key(ChannelKind.TELEGRAM, str(chat_id)),
        )
        .values(
            status=ACTIVE,
            dead_reason=None,
            target_masked=title,
            next_send_at=now,
            failures=0,
            updated_at=now,
        )
    )


async def tenant_of_chat(conn: AsyncConnection, chat_id: int) -> str | None:
    """The tenant whose active telegram channel ``chat_id`` is (the latest linked)."""
    statement = (
        sa.select(channels.c.tenant_id)
        .where(
            channels.c.chat_id == chat_id,
            channels.c.kind == ChannelKind.TELEGRAM.value,
            channels.c.status == ACTIVE,
        )
        .order_by(channels.c.created_at.desc())
        .limit(1)
    )
    tenant: str | None = (await conn.execute(statement)).scalar()
    return tenant


async def chats_of_tenant(conn: AsyncConnection, tenant_id: str) -> list[int]:
    """The tenant's active linked chats (where the bot reports about its signal sources)."""
    statement = sa.select(channels.c.chat_id).where(
        channels.c.tenant_id == tenant_id,
        channels.c.kind == ChannelKind.TELEGRAM.value,
        channels.c.status == ACTIVE,
        channels.c.chat_id.is_not(None),
    )
    return [int(chat) for chat in (await conn.execute(statement)).scalars()]


# --- Signal sources ----------------------------------------------------------------------------
@dataclass(frozen=True)
class SignalSource:
    """A signal source as the API shows it (the webhook masked, never its token)."""

    source_id: str
    tenant_id: str
    status: str
    webhook: str
    chat_id: int | None
    chat_title: str | None
    claim_expires_at: datetime | None
    created_at: datetime


def source_of(row: Any) -> SignalSource:
    return SignalSource(
        source_id=row.source_id,
        tenant_id=row.tenant_id,
        status=row.status,
        webhook=row.webhook_masked,
        chat_id=row.chat_id,
        chat_title=row.chat_title,
        claim_expires_at=row.claim_expires_at,
        created_at=row.created_at,
    )


async def add_source(
    conn: AsyncConnection,
    box: DataBox,
    tenant_id: str,
    *,
    webhook_masked: str,
    token: str,
    claim_digest: str,
    expires_at: datetime,
    now: datetime,
) -> SignalSource:
    source_id = new_id()
    row = {
        "source_id": source_id,
        "tenant_id": tenant_id,
        "status": "pending",
        "webhook_masked": webhook_masked,
        "token_sealed": box.seal(token, webhook_token_context(tenant_id, source_id)),
        "claim_digest": claim_digest,
        "claim_expires_at": expires_at,
        "edit_notice_sent": False,
        "created_at": now,
    }
    inserted = (
        await conn.execute(signal_sources.insert().values(row).returning(*signal_sources.c))
    ).one()
    return source_of(inserted)


async def list_sources(conn: AsyncConnection, tenant_id: str) -> list[SignalSource]:
    statement = (
        sa.select(signal_sources)
        .where(signal_sources.c.tenant_id == tenant_id)
        .order_by(signal_sources.c.created_at, signal_sources.c.source_id)
    )
    return [source_of(row) for row in await conn.execute(statement)]


async def delete_source(conn: AsyncConnection, tenant_id: str, source_id: str) -> bool:
    statement = signal_sources.delete().where(
        signal_sources.c.tenant_id == tenant_id, signal_sources.c.source_id == source_id
    )
    return (await conn.execute(statement)).rowcount > 0


async def claim_source(
    conn: AsyncConnection, digest: str, chat_id: int, title: str, now: datetime
) -> SignalSource | None:
    """Map the chat where ``/signals <code>`` was posted to the code's source."""
    statement = (
        signal_sources.update()
        .where(
            signal_sources.c.claim_digest == digest,
            signal_sources.c.status == "pending",
            signal_sources.c.claim_expires_at > now,
        )
        .values(
            status="active",
            chat_id=chat_id,
            chat_title=title,
            claim_digest=None,
            claim_expires_at=None,
            claimed_at=now,
        )
        .returning(*signal_sources.c)
    )
    try:
        async with conn.begin_nested():
            row = (await conn.execute(statement)).first()
    except sa.exc.IntegrityError:  # the tenant maps this chat already
        return None
    return None if row is None else source_of(row)


@dataclass(frozen=True)
class Route:
    """Where a post of a chat goes: a tenant's webhook token (opened)."""

    source_id: str
    tenant_id: str
    token: str
    title: str


async def routes_of_chat(conn: AsyncConnection, box: DataBox, chat_id: int) -> list[Route]:
    """Every active source of ``chat_id``, its webhook token opened."""
    statement = sa.select(signal_sources).where(
        signal_sources.c.chat_id == chat_id, signal_sources.c.status == "active"
    )
    return [
        Route(
            source_id=row.source_id,
            tenant_id=row.tenant_id,
            token=box.open(row.token_sealed, webhook_token_context(row.tenant_id, row.source_id)),
            title=row.chat_title or "",
        )
        for row in await conn.execute(statement)
    ]


async def first_edit(conn: AsyncConnection, source_id: str) -> bool:
    """Note that the tenant was told edits are not traded; return whether this is the first."""
    statement = (
        signal_sources.update()
        .where(
            signal_sources.c.source_id == source_id,
            signal_sources.c.edit_notice_sent.is_(False),
        )
        .values(edit_notice_sent=True)
    )
    return (await conn.execute(statement)).rowcount > 0

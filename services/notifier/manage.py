"""What the tenant API does with channels: add (and send the verification code), verify,
change, delete, test. Each step in the tenant's own transaction (RLS)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from libs.common.ids import new_id
from services.notifier.channels.discord import check_discord_url
from services.notifier.channels.email import check_address
from services.notifier.channels.webhook import check_webhook_url, new_signing_secret
from services.notifier.domain.kinds import DEFAULT_KINDS, EMAIL_ONLY_KINDS, ChannelKind
from services.notifier.domain.notices import test_notice, verification_notice
from services.notifier.errors import (
    ChannelOffError,
    ConflictError,
    InvalidTargetError,
    NotFoundError,
    WrongCodeError,
)
from services.notifier.keys import ensure_kept_key, revoke_kept_key
from services.notifier.runtime import Runtime
from services.notifier.schemas import ChannelChange, ChannelSpec
from services.notifier.store import channels as store
from services.notifier.store.deliveries import URGENT, delivery_row, enqueue

_NO_SUCH = "No such channel."


@dataclass(frozen=True, slots=True)
class Added:
    record: store.ChannelRecord
    signing_secret: str | None


def _events(kind: ChannelKind, wanted: Sequence[str] | None, *, daily_summary: bool | None) -> None:
    if kind is not ChannelKind.EMAIL and (daily_summary or EMAIL_ONLY_KINDS & set(wanted or ())):
        raise InvalidTargetError("The daily summary goes by email only.", field="daily_summary")


async def _target(runtime: Runtime, spec: ChannelSpec) -> tuple[str, str]:
    settings = runtime.settings
    kind = ChannelKind(spec.kind)
    if not runtime.enabled(kind):
        raise ChannelOffError(f"{kind.value} channels are not available on this deployment.")
    if kind is ChannelKind.DISCORD:
        return check_discord_url(spec.target, settings.discord_webhook_prefix)
    if kind is ChannelKind.EMAIL:
        return check_address(spec.target)
    return await check_webhook_url(
        spec.target,
        allow_http=settings.webhook_allow_http,
        allow_private=settings.webhook_allow_private,
    )


async def add(runtime: Runtime, tenant_id: str, caller_key: str, spec: ChannelSpec) -> Added:
    """Add a channel awaiting verification and queue its code; 409 for a target it has."""
    kind = ChannelKind(spec.kind)
    _events(kind, spec.events, daily_summary=spec.daily_summary)
    address, masked = await _target(runtime, spec)
    await ensure_kept_key(runtime, tenant_id, caller_key)
    code = f"{secrets.randbelow(10**6):06d}"
    secret = new_signing_secret() if kind is ChannelKind.WEBHOOK else None
    now = runtime.clock()
    events = tuple(spec.events) if spec.events is not None else DEFAULT_KINDS
    if spec.events is None and kind is ChannelKind.EMAIL:
        events = (*events, "daily.summary")
    new = store.NewChannel(
        kind=kind,
        address=address,
        masked=masked,
        events=events,
        quiet=spec.quiet,
        daily_summary=spec.daily_summary,
        secret=secret,
        verify_code_digest=store.code_digest(code),
        verify_expires_at=now + timedelta(seconds=runtime.settings.verify_code_ttl_s),
    )
    async with runtime.db.as_tenant(tenant_id) as conn:
        record = await store.insert_channel(conn, runtime.box, tenant_id, new, now)
        if record is None:
            raise ConflictError("You have a channel for this target already.", field="target")
        notice = verification_notice(tenant_id, record.channel_id, code, now)
        await enqueue(conn, [delivery_row(record.channel_id, notice, now, priority=URGENT)])
    runtime.wake.set()
    return Added(record, secret)


async def verify(
    runtime: Runtime, tenant_id: str, channel_id: str, code: str
) -> store.ChannelRecord:
    """Turn the channel on if ``code`` is the one it received (a few tries)."""
    now = runtime.clock()
    async with runtime.db.as_tenant(tenant_id) as conn:
        row = await store.channel_row(conn, tenant_id, channel_id)
        if row is None:
            raise NotFoundError(_NO_SUCH)
        if row.status != store.PENDING:
            raise ConflictError("This channel is not awaiting verification.")
        if row.verify_code_digest is None or row.verify_tries >= runtime.settings.verify_max_tries:
            raise WrongCodeError(
                "No tries left: delete the channel and add it again.", field="code"
            )
        if row.verify_expires_at is None or row.verify_expires_at <= now:
            raise WrongCodeError(
                "The code expired: delete the channel and add it again.", field="code"
            )
        if not secrets.compare_digest(row.verify_code_digest, store.code_digest(code)):
            # Counted in this transaction, which commits: the refusal is raised after it.
            await store.update_channel(
                conn, tenant_id, channel_id, now, verify_tries=row.verify_tries + 1
            )
            left = runtime.settings.verify_max_tries - row.verify_tries - 1
            record = None
        else:
            record = await store.update_channel(
                conn,
                tenant_id,
                channel_id,
                now,
                status=store.ACTIVE,
                verify_code_digest=None,
                verify_expires_at=None,
            )
    if record is None:
        raise WrongCodeError(f"Wrong code ({left} tries left).", field="code")
    return record


async def change(
    runtime: Runtime, tenant_id: str, channel_id: str, spec: ChannelChange
) -> store.ChannelRecord:
    values = spec.model_dump(exclude_none=True)
    async with runtime.db.as_tenant(tenant_id) as conn:
        row = await store.channel_row(conn, tenant_id, channel_id)
        if row is None:
            raise NotFoundError(_NO_SUCH)
        _events(ChannelKind(row.kind), spec.events, daily_summary=spec.daily_summary)
        record = await store.update_channel(conn, tenant_id, channel_id, runtime.clock(), **values)
    assert record is not None  # noqa: S101
    return record


async def delete(runtime: Runtime, tenant_id: str, caller_key: str, channel_id: str) -> None:
    """Delete the channel (its deliveries go with it); the last one revokes the kept key."""
    async with runtime.db.as_tenant(tenant_id) as conn:
        if not await store.delete_channel(conn, tenant_id, channel_id):
            raise NotFoundError(_NO_SUCH)
        left = await store.count_channels(conn, tenant_id)
    if left == 0:
        await revoke_kept_key(runtime, tenant_id, caller_key)


async def test(runtime: Runtime, tenant_id: str, channel_id: str) -> str:
    """Queue a test message on an active channel; return its delivery id."""
    now = runtime.clock()
    async with runtime.db.as_tenant(tenant_id) as conn:
        row = await store.channel_row(conn, tenant_id, channel_id)
        if row is None:
            raise NotFoundError(_NO_SUCH)
        if row.status != store.ACTIVE:
            raise ConflictError("Only an active channel can be tested.")
        delivery = delivery_row(
            channel_id, test_notice(tenant_id, channel_id, new_id(), now), now, priority=URGENT
        )
        await enqueue(conn, [delivery])
    runtime.wake.set()
    return str(delivery["delivery_id"])

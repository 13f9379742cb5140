"""The tenant API's bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from libs.common.messages.types import Text
from services.notifier.domain.kinds import EVENT_KINDS, EventKind
from services.notifier.store.channels import ChannelRecord

Events = Annotated[list[EventKind], Field(max_length=len(EVENT_KINDS))]


class Request(BaseModel):
    """A request body: unknown fields are refused so that typos do not go unnoticed."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ChannelSpec(Request):
    """A new Discord, email or webhook channel; Telegram chats are linked through
    ``POST /channels/telegram``."""

    kind: Literal["discord", "email", "webhook"]
    target: Annotated[
        Text,
        StringConstraints(min_length=3, max_length=2048),
        Field(description="The Discord webhook URL, the email address or the webhook URL."),
    ]
    events: Events | None = Field(
        default=None,
        description="Event kinds to send; default: all but order.submitted, position.marked, "
        "funding.paid (and daily.summary, email only).",
    )
    quiet: bool = Field(
        default=False, description="Only failures, rejections, billing and kill-switch events."
    )
    daily_summary: bool = Field(default=False, description="Email only: a summary each day.")


class ChannelChange(Request):
    """What a PATCH changes; absent fields stay."""

    events: Events | None = None
    quiet: bool | None = None
    daily_summary: bool | None = None


class VerifyCode(Request):
    code: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")] = Field(
        description="The 6-digit code the channel received."
    )


class ChannelOut(BaseModel):
    """A channel; ``target`` is masked (the URL's token is never shown again)."""

    id: str
    kind: Literal["telegram", "discord", "email", "webhook"]
    target: str
    status: Literal["pending_verification", "active", "dead"]
    dead_reason: str | None
    events: list[str]
    quiet: bool
    daily_summary: bool
    created_at: datetime

    @classmethod
    def of(cls, record: ChannelRecord) -> ChannelOut:
        return cls(
            id=record.channel_id,
            kind=record.kind.value,
            target=record.target,
            status=record.status,  # type: ignore[arg-type]
            dead_reason=record.dead_reason,
            events=list(record.events),
            quiet=record.quiet,
            daily_summary=record.daily_summary,
            created_at=record.created_at,
        )


class ChannelCreated(ChannelOut):
    signing_secret: str | None = Field(
        default=None,
        description="Webhook channels: the secret that signs every POST (shown this once).",
    )


class ChannelsOut(BaseModel):
    channels: list[ChannelOut]


class TestQueued(BaseModel):
    delivery_id: str = Field(description="The test message's delivery; it goes out shortly.")

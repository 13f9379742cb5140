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

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "email",
                    "target": "ada@example.com",
                    "events": ["order.filled", "order.rejected", "protection.failed"],
                    "daily_summary": True,
                }
            ]
        }
    )

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

    model_config = ConfigDict(json_schema_extra={"examples": [{"quiet": True}]})

    events: Events | None = None
    quiet: bool | None = None
    daily_summary: bool | None = None


class VerifyCode(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "493021"}]})
    code: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")] = Field(
        description="The 6-digit code the channel received."
    )


class ChannelOut(BaseModel):
    """A channel; ``target`` is masked (the URL's token is never shown again)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "01JEA5C1D2E3F4G5H6J7K8M9N0",
                    "kind": "email",
                    "target": "a***@example.com",
                    "status": "active",
                    "dead_reason": None,
                    "events": ["order.filled", "order.rejected", "protection.failed"],
                    "quiet": False,
                    "daily_summary": True,
                    "created_at": "2026-12-05T20:00:00Z",
                }
            ]
        }
    )

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
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "01JEA5C1D2E3F4G5H6J7K8M9N0",
                    "kind": "webhook",
                    "target": "https://hooks.example.net/sparky/***",
                    "status": "pending_verification",
                    "dead_reason": None,
                    "events": ["order.filled", "order.rejected", "protection.failed"],
                    "quiet": False,
                    "daily_summary": False,
                    "created_at": "2026-12-05T20:00:00Z",
                    "signing_secret": "whsec_Zk3v9QxN2bL7mR4tY8wE1aS6dF0gH5jK",
                }
            ]
        }
    )
    signing_secret: str | None = Field(
        default=None,
        description="Webhook channels: the secret that signs every POST (shown this once).",
    )


class ChannelsOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "channels": [
                        {
                            "id": "01JEA5C1D2E3F4G5H6J7K8M9N0",
                            "kind": "email",
                            "target": "a***@example.com",
                            "status": "active",
                            "dead_reason": None,
                            "events": ["order.filled", "order.rejected", "protection.failed"],
                            "quiet": False,
                            "daily_summary": True,
                            "created_at": "2026-12-05T20:00:00Z",
                        }
                    ]
                }
            ]
        }
    )
    channels: list[ChannelOut]


class TestQueued(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"delivery_id": "01JEA5C2E3F4G5H6J7K8M9N0P1"}]}
    )
    delivery_id: str = Field(description="The test message's delivery; it goes out shortly.")

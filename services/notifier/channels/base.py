"""The one interface every channel kind implements, and what a send can come to.

A channel turns an `Outgoing` message (one or several notices, coalesced by the sender) into
the channel's own API call, and says what happened as a `SendResult`:

- ``sent``;
- ``retry`` (a 5xx, a timeout, a 429): try again later, after ``retry_after_s`` when the
  channel said so (Discord's and Telegram's ``retry_after``), else with the sender's backoff;
- ``dead`` (401/403/404/410, "bot was blocked", SMTP 5xx): the channel can never work again as
  configured; the sender marks it dead with ``reason`` and never retries;
- ``refused``: this message can never go (the API refused its content): it is given up, the
  channel goes on.

A channel never raises for its API's answers; anything it raises is taken as ``retry``.
Limits are data (`ChannelLimits`), read by the sender: how often one target may be sent to,
how much text one message holds, how many notices one message folds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from services.notifier.domain.kinds import ChannelKind
from services.notifier.domain.notices import Notice


@dataclass(frozen=True, slots=True)
class ChannelLimits:
    """How a channel may be used, per target (a chat, a webhook URL, an address)."""

    min_interval_s: float  # at least this long between two messages to one target
    max_chars: int = 4000  # text one message holds
    max_notices: int = 50  # notices folded into one message at most
    exempt_kinds: frozenset[str] = frozenset()  # notice kinds sent at once (verification)


@dataclass(frozen=True, slots=True)
class Target:
    """Where one channel sends: the opened address and secret never appear in its repr."""

    channel_id: str
    tenant_id: str
    kind: ChannelKind
    address: str = field(repr=False)  # Discord/webhook URL, email address, Telegram chat id
    secret: str | None = field(default=None, repr=False)  # a webhook's signing secret


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message: ``send_id`` is the same on every attempt, so receivers can deduplicate
    (the outbound webhook's ``Sparky-Delivery``, a footer on Discord)."""

    send_id: str
    notices: tuple[Notice, ...]

    @property
    def coalesced(self) -> bool:
        return len(self.notices) > 1


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    DEAD = "dead"  # the channel: marked dead, never retried
    REFUSED = "refused"  # this message only (a 400 for its content): given up, channel goes on


@dataclass(frozen=True, slots=True)
class SendResult:
    """What a send came to; ``reason`` is for traders and logs: never a secret."""

    outcome: Outcome
    reason: str = ""
    retry_after_s: float | None = None
    code: str = ""  # the metrics' reason label: http_429, http_5xx, timeout, smtp_550…

    @classmethod
    def sent(cls) -> SendResult:
        return cls(Outcome.SENT)

    @classmethod
    def retry(cls, reason: str, code: str, retry_after_s: float | None = None) -> SendResult:
        return cls(Outcome.RETRY, reason, retry_after_s, code)

    @classmethod
    def dead(cls, reason: str, code: str) -> SendResult:
        return cls(Outcome.DEAD, reason, None, code)

    @classmethod
    def refused(cls, reason: str, code: str) -> SendResult:
        return cls(Outcome.REFUSED, reason, None, code)


class Channel(Protocol):
    """A channel kind: its limits and how it sends."""

    @property
    def kind(self) -> ChannelKind: ...

    def limits(self, target: Target) -> ChannelLimits:
        """Return the limits for ``target`` (a Telegram group is slower than a private chat)."""
        ...

    async def send(self, target: Target, message: Outgoing) -> SendResult:
        """Send ``message`` to ``target``; never raise for the API's answers."""
        ...

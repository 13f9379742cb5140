"""The envelope every message carries."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from libs.common.ids import TenantId, Ulid, new_id
from libs.common.messages.types import FrozenModel, UtcDatetime, utcnow


class Message(FrozenModel):
    """Fields common to every command and event.

    ``correlation_id`` is the intent id through the whole chain (alert → order → fills);
    ``causation_id`` is the ``message_id`` of the message that caused this one.
    """

    message_id: Ulid = Field(default_factory=new_id)
    tenant_id: TenantId
    correlation_id: Ulid
    causation_id: Ulid
    occurred_at: UtcDatetime = Field(default_factory=utcnow)

    @property
    def ordering_key(self) -> str | None:
        """Within its tenant, which messages must be handled one after another, in stream
        order (a market, an account and market); None: all of the tenant's. Published as the
        ``Sparky-Key`` header, read by the consumption layer."""
        return None

    def to_json(self) -> bytes:
        """Serialise for a NATS payload (decimals as strings, times in ISO 8601 UTC)."""
        return self.model_dump_json().encode()


def envelope_from(parent: Message) -> dict[str, Any]:
    """Return the envelope fields of a message caused by ``parent``."""
    return {
        "tenant_id": parent.tenant_id,
        "correlation_id": parent.correlation_id,
        "causation_id": parent.message_id,
    }

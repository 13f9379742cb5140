"""Operators (named people, each with a token of their own) and the audit of what they do.

Pure: no I/O. A token exists in clear only in the answer that creates it; Postgres keeps its
SHA-256 (a token is 32 random bytes: a fast hash is enough, unlike a passphrase) and its first
8 characters. The ``bootstrap`` operator stands for the configured token, to create the first
people with; revoking it disables that token.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from libs.common.ids import Ulid
from libs.common.messages.types import FrozenModel, UtcDatetime
from libs.common.redaction import OPERATOR_TOKEN_PREFIX

BOOTSTRAP = "bootstrap"
TOKEN_BYTES = 32


def new_operator_token() -> str:
    """Return a fresh operator token: ``sop_`` and 32 random bytes, URL-safe."""
    return OPERATOR_TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


class Operator(FrozenModel):
    """A person who operates Sparky, known by name; their token by its digest."""

    operator_id: Ulid
    name: str
    digest: str | None = None
    prefix: str | None = None
    created_by: str | None = None
    created_at: UtcDatetime
    revoked_by: str | None = None
    revoked_at: UtcDatetime | None = None

    @property
    def bootstrap(self) -> bool:
        """Whether this is the operator of the configured token."""
        return self.digest is None


class Outcome(StrEnum):
    """How an audited request ended."""

    SUCCEEDED = "succeeded"  # 2xx, 3xx
    REFUSED = "refused"  # 4xx: nothing changed
    FAILED = "failed"  # 5xx: maybe something changed, maybe not

    @classmethod
    def of(cls, status: int) -> Outcome:
        if status < 400:
            return cls.SUCCEEDED
        return cls.REFUSED if status < 500 else cls.FAILED


class AuditEntry(FrozenModel):
    """One operator action: who, what, on which tenant and object, when, how it ended."""

    at: UtcDatetime
    operator_id: Ulid
    operator: str
    action: str
    method: str
    tenant_id: str | None = None
    target: str | None = None
    request_id: str
    status: int
    outcome: Outcome


class Recorded(AuditEntry):
    """An entry as the log holds it, with its place in the log."""

    audit_id: int


class AuditQuery(FrozenModel):
    """Which entries to read: filters, and the page after the entry ``after``."""

    operator: str | None = None
    tenant_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    after: int | None = None
    limit: int = 100

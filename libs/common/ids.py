"""Identifiers and the one partitioning function.

Every id Sparky mints is a ULID: sortable by creation time, 26 characters of Crockford base32,
safe in NATS subjects, KV keys and URLs.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated, NewType

from pydantic import StringConstraints
from ulid import ULID

ULID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"
# Tenant ids travel inside NATS subjects: no dots, spaces, wildcards.
TENANT_ID_PATTERN = r"^[0-9A-Za-z_-]{1,64}$"

Ulid = Annotated[str, StringConstraints(pattern=ULID_PATTERN)]

# Value types that mypy tells apart (each a `NewType` of str, so free at run time), with the
# constraints pydantic and FastAPI check: ``TenantId("t-1")`` makes one, a model validates one.
_TenantId = NewType("_TenantId", str)
_IntentId = NewType("_IntentId", str)
_ClientOrderId = NewType("_ClientOrderId", str)
TenantId = Annotated[_TenantId, StringConstraints(pattern=TENANT_ID_PATTERN)]
"""A tenant: the partition key, inside NATS subjects and KV keys."""
IntentId = Annotated[_IntentId, StringConstraints(pattern=ULID_PATTERN)]
"""One alert's intent (a ULID): the correlation id of everything it causes."""
ClientOrderId = Annotated[_ClientOrderId, StringConstraints(min_length=1, max_length=36)]
"""The id an order carries to the exchange, derived from its intent: the exchange's dedup key."""


def new_id() -> str:
    """Return a new ULID as its canonical 26-character string."""
    return str(ULID())


def new_tenant_id() -> TenantId:
    """Return a new tenant id (a ULID: billing mints them)."""
    return TenantId(new_id())


def new_intent_id() -> IntentId:
    """Return a new intent id (a ULID)."""
    return IntentId(new_id())


def stable_ulid(at: datetime, key: str) -> str:
    """Return a ULID that is the same every time for ``at`` and ``key``: its time is ``at``,
    its rest a hash of ``key`` (a message published again is the same message)."""
    millis = int(at.timestamp() * 1000).to_bytes(6, "big")
    digest = hashlib.blake2b(key.encode(), digest_size=10).digest()
    return str(ULID.from_bytes(millis + digest))


def partition(tenant_id: str, partitions: int) -> int:
    """Return the partition in ``[0, partitions)`` that owns ``tenant_id``.

    Stable across processes, machines and Python versions (BLAKE2b, not ``hash()``, which is
    salted per process), so every replica of every service agrees on it. ``partitions`` is fixed
    for a deployment: changing it moves tenants between consumers.
    """
    if partitions < 1:
        raise ValueError(f"partitions must be at least 1, got {partitions}")
    digest = hashlib.blake2b(tenant_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % partitions


def owned_partitions(replica_index: int, replica_count: int, partitions: int) -> tuple[int, ...]:
    """Return the partitions replica ``replica_index`` of ``replica_count`` consumes."""
    if replica_count < 1 or not 0 <= replica_index < replica_count:
        raise ValueError(f"replica {replica_index} of {replica_count} does not exist")
    return tuple(p for p in range(partitions) if p % replica_count == replica_index)

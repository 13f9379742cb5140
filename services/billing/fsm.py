"""A tenant's lifecycle as an explicit transition table; an illegal move raises. Pure: no I/O.

``active ⇄ suspended``, and either ``→ deleted``; deleted is final (the row stays, for the
audit and the usage counters, but nothing works). Asking for the state a tenant is already in
moves nothing and is allowed: a repeated suspension, resumption or deletion is idempotent.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from services.billing.errors import IllegalTransitionError


class Lifecycle(StrEnum):
    """Where a tenant is in its life; deleted tenants keep a row but nothing else works."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    DELETED = "deleted"


TRANSITIONS: Mapping[Lifecycle, frozenset[Lifecycle]] = MappingProxyType(
    {
        Lifecycle.ACTIVE: frozenset({Lifecycle.SUSPENDED, Lifecycle.DELETED}),
        Lifecycle.SUSPENDED: frozenset({Lifecycle.ACTIVE, Lifecycle.DELETED}),
        Lifecycle.DELETED: frozenset(),
    }
)


def move(current: Lifecycle, target: Lifecycle) -> Lifecycle:
    """Return ``target`` if a tenant in ``current`` may go there; raise `IllegalTransitionError`
    (a 409 with the reason) if it may not."""
    if target is current or target in TRANSITIONS[current]:
        return target
    raise IllegalTransitionError(f"A {current.value} tenant cannot become {target.value}.")

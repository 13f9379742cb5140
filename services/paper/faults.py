"""Faults injected on demand, for tests: latency, 5xx, 429, and timeouts after acceptance.

A fault hits the next ``count`` matching requests (every one while it is active when ``count``
is None), optionally only those of one account and of one method and path. Faults live in
memory: a restart clears them, and each replica has its own.

- ``latency``: wait ``latency_ms`` before handling the request (which then runs normally).
- ``error``: answer ``status`` (503 by default) with a plain-text body, handling nothing.
- ``rate_limit``: answer 429 with Binance's -1003 and ``Retry-After``, handling nothing.
- ``accept_then_timeout``: an order creation is accepted and stored, then the answer is held
  for ``delay_ms`` (longer than the client's timeout, so the client times out).
- ``accept_then_error``: an order creation is accepted and stored, then answered ``status``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from libs.common.messages.types import Text
from services.paper.metrics import FAULTS


class FaultKind(StrEnum):
    """What an injected fault does to a request."""

    LATENCY = "latency"
    ERROR = "error"
    RATE_LIMIT = "rate_limit"
    ACCEPT_THEN_TIMEOUT = "accept_then_timeout"
    ACCEPT_THEN_ERROR = "accept_then_error"


BEFORE_HANDLING = frozenset({FaultKind.LATENCY, FaultKind.ERROR, FaultKind.RATE_LIMIT})
AFTER_ACCEPTING = frozenset({FaultKind.ACCEPT_THEN_TIMEOUT, FaultKind.ACCEPT_THEN_ERROR})


class FaultSpec(BaseModel):
    """A fault to inject (the body of ``POST /admin/faults``)."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "error",
                    "count": 1,
                    "method": "POST",
                    "path": "/api/v3/order",
                    "status": 503,
                }
            ]
        },
    )

    kind: FaultKind
    count: int | None = Field(default=None, ge=1, description="Requests to hit; None: all.")
    account_id: int | None = Field(default=None, description="Only this account's requests.")
    method: Text | None = Field(
        default=None, max_length=16, description="Only this HTTP method, e.g. POST."
    )
    path: Text | None = Field(
        default=None, max_length=256, description="Only this path, e.g. /api/v3/order."
    )
    latency_ms: int = Field(default=0, ge=0, le=600_000)
    status: int = Field(default=503, ge=500, le=599)
    delay_ms: int = Field(default=60_000, ge=0, le=600_000)


@dataclass(frozen=True, slots=True)
class RequestScope:
    """What a fault is matched against."""

    method: str
    path: str
    account_id: int | None


class ActiveFault(BaseModel):
    """A fault in force and how many requests it will still hit."""

    model_config = ConfigDict(
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "fault_id": 1,
                    "spec": {
                        "kind": "latency",
                        "count": None,
                        "account_id": 7,
                        "method": None,
                        "path": None,
                        "latency_ms": 1500,
                        "status": 503,
                        "delay_ms": 0,
                    },
                    "remaining": None,
                }
            ]
        },
    )

    fault_id: int
    spec: FaultSpec
    remaining: int | None


def _matches(spec: FaultSpec, scope: RequestScope) -> bool:
    return (
        (spec.account_id is None or spec.account_id == scope.account_id)
        and (spec.method is None or spec.method.upper() == scope.method)
        and (spec.path is None or spec.path == scope.path)
    )


class Faults:
    """The faults in force in this process."""

    def __init__(self) -> None:
        self._active: dict[int, ActiveFault] = {}
        self._ids = itertools.count(1)

    def add(self, spec: FaultSpec) -> ActiveFault:
        """Put ``spec`` in force and return it with its id."""
        fault = ActiveFault(fault_id=next(self._ids), spec=spec, remaining=spec.count)
        self._active[fault.fault_id] = fault
        return fault

    def clear(self) -> None:
        """Remove every fault."""
        self._active.clear()

    def active(self) -> list[ActiveFault]:
        """Return the faults in force, oldest first."""
        return list(self._active.values())

    def any_account_scoped(self) -> bool:
        """Tell whether matching needs to know the caller's account."""
        return any(f.spec.account_id is not None for f in self._active.values())

    def take(self, kinds: frozenset[FaultKind], scope: RequestScope) -> FaultSpec | None:
        """Return the oldest fault of ``kinds`` hitting ``scope``, using up one of its count."""
        for fault in list(self._active.values()):
            if fault.spec.kind in kinds and _matches(fault.spec, scope):
                self._use(fault)
                FAULTS.labels(fault.spec.kind.value).inc()
                return fault.spec
        return None

    def _use(self, fault: ActiveFault) -> None:
        if fault.remaining is None:
            return
        if fault.remaining <= 1:
            del self._active[fault.fault_id]
        else:
            left = fault.remaining - 1
            self._active[fault.fault_id] = fault.model_copy(update={"remaining": left})

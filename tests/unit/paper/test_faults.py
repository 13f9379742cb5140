"""Injected faults hit only the requests they target, as many times as asked."""

from __future__ import annotations

from services.paper.faults import (
    AFTER_ACCEPTING,
    BEFORE_HANDLING,
    FaultKind,
    Faults,
    FaultSpec,
    RequestScope,
)

ORDER = RequestScope("POST", "/api/v3/order", account_id=1)
BALANCE = RequestScope("GET", "/api/v3/account", account_id=1)
OTHER = RequestScope("POST", "/api/v3/order", account_id=2)


def test_a_counted_fault_hits_that_many_requests_then_goes() -> None:
    faults = Faults()
    faults.add(FaultSpec(kind=FaultKind.ERROR, count=2))
    hits = [faults.take(BEFORE_HANDLING, ORDER) for _ in range(3)]
    assert [hit is not None for hit in hits] == [True, True, False]
    assert faults.active() == []


def test_a_fault_without_a_count_hits_until_cleared() -> None:
    faults = Faults()
    faults.add(FaultSpec(kind=FaultKind.RATE_LIMIT))
    assert all(faults.take(BEFORE_HANDLING, BALANCE) for _ in range(10))
    faults.clear()
    assert faults.take(BEFORE_HANDLING, BALANCE) is None


def test_a_scoped_fault_spares_other_accounts_methods_and_paths() -> None:
    faults = Faults()
    faults.add(FaultSpec(kind=FaultKind.ERROR, account_id=1, method="post", path="/api/v3/order"))
    assert faults.any_account_scoped()
    assert faults.take(BEFORE_HANDLING, OTHER) is None
    assert faults.take(BEFORE_HANDLING, BALANCE) is None
    assert faults.take(BEFORE_HANDLING, ORDER) is not None


def test_faults_after_acceptance_are_not_taken_before_handling() -> None:
    faults = Faults()
    faults.add(FaultSpec(kind=FaultKind.ACCEPT_THEN_TIMEOUT, count=1))
    assert faults.take(BEFORE_HANDLING, ORDER) is None
    taken = faults.take(AFTER_ACCEPTING, ORDER)
    assert taken is not None
    assert taken.kind is FaultKind.ACCEPT_THEN_TIMEOUT
    assert faults.take(AFTER_ACCEPTING, ORDER) is None


def test_the_oldest_matching_fault_goes_first() -> None:
    faults = Faults()
    first = faults.add(FaultSpec(kind=FaultKind.LATENCY, count=1, latency_ms=5))
    faults.add(FaultSpec(kind=FaultKind.ERROR, count=1))
    assert faults.take(BEFORE_HANDLING, ORDER) == first.spec
    assert [f.spec.kind for f in faults.active()] == [FaultKind.ERROR]

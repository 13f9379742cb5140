"""What a commit counts and keeps: the decision, read back as it was, and the quota refusals."""

from __future__ import annotations

from decimal import Decimal

from libs.common.messages import Action, RejectReason
from services.router.domain.kept import Kept, commit_of
from tests import factories
from tests.helpers.router import NOON, futures, intent
from tests.unit.router.world import World

LIMITED = factories.tenant_record("tenant-a")  # free plan: 10 alerts an hour, 20 orders a day
WORLD = World().but(tenant=LIMITED)


def test_a_kept_reversal_reads_back_as_both_orders_with_their_message_ids() -> None:
    reversal = WORLD.but(
        accounts={"main": futures()}, positions={("main", "BTC/USDT:USDT"): Decimal(-1)}
    ).placed(intent(action=Action.BUY))
    commit = commit_of(reversal, NOON)

    kept = Kept.decode(commit.kept.encode())

    assert kept == commit.kept
    assert kept.orders == reversal.orders
    assert len(set(kept.ids)) == len(kept.orders) == 2
    assert (commit.alerts, commit.orders) == (1, 2)


def test_a_placement_is_refused_in_words_when_the_commit_finds_a_quota_used_up() -> None:
    commit = commit_of(WORLD.placed(intent()), NOON)

    alerts, orders = commit.if_alerts_exceeded, commit.if_orders_exceeded
    assert alerts is not None
    assert orders is not None
    assert (alerts.reason, orders.reason) == (RejectReason.QUOTA_EXCEEDED,) * 2
    assert "10 alerts per hour" in (alerts.message or "")
    assert "20 orders per day" in (orders.message or "")


def test_an_unlimited_tenant_needs_no_quota_refusal() -> None:
    commit = commit_of(
        World()
        .but(
            tenant=factories.tenant_record(
                "tenant-a",
                limits=factories.plan_limits(max_alerts_per_hour=None, max_orders_per_day=None),
            )
        )
        .placed(intent()),
        NOON,
    )

    assert (commit.if_alerts_exceeded, commit.if_orders_exceeded) == (None, None)


def test_a_rejection_that_must_not_count_is_kept_without_counting() -> None:
    unknown = WORLD.but(tenant=None).rejected(intent())
    commit = commit_of(unknown, NOON)

    assert (commit.alerts, commit.orders) == (0, 0)
    assert commit.if_alerts_exceeded is None
    assert Kept.decode(commit.kept.encode()).reason is RejectReason.TENANT_UNKNOWN

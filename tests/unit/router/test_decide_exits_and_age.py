"""Exits are always allowed; a signal that fired too long ago is never placed late."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from libs.common.messages import AccountMode, Action, RejectReason
from services.router.domain.layers import TenantSettings
from tests import factories
from tests.helpers.router import NOON, account, intent, layer
from tests.unit.router.world import World

# A tenant downgraded to the free plan (no live trading, one account), still holding BTC on a
# live account and on a second account beyond the plan's limit.
FREE = factories.plan_limits(live_trading=False, max_exchange_accounts=1, max_alerts_per_hour=None)
DOWNGRADED = World(
    tenant=factories.tenant_record("tenant-a", limits=FREE),
    accounts={
        "a-paper": account(label="a-paper"),
        "a-live": account(label="a-live", mode=AccountMode.LIVE),
    },
    positions={("a-live", "BTC/USDT"): Decimal("0.1"), ("a-paper", "BTC/USDT"): Decimal(1)},
)


def test_a_downgraded_tenant_closes_a_live_position() -> None:
    (order,) = DOWNGRADED.placed(
        intent(account="a-live", action=Action.CLOSE, quantity=None)
    ).orders
    assert order.account_label == "a-live"
    assert DOWNGRADED.placed(intent(account="a-live", action=Action.SELL))


def test_a_downgraded_tenant_cannot_open_on_a_live_account_and_is_told_exits_still_work() -> None:
    rejection = DOWNGRADED.rejected(intent(account="a-live", action=Action.BUY))
    assert rejection.reason is RejectReason.LIVE_TRADING_NOT_ALLOWED
    assert "reduce a position are still placed" in rejection.message


def test_an_account_beyond_the_plans_limit_may_still_be_closed_but_not_added_to() -> None:
    over = DOWNGRADED.but(
        accounts={"a-paper": account(label="a-paper"), "b-paper": account(label="b-paper")},
        positions={("b-paper", "BTC/USDT"): Decimal("0.5")},
    )
    assert over.placed(intent(account="b-paper", action=Action.CLOSE, quantity=None))
    target_down = intent(account="b-paper", quantity=None, position_size=Decimal("0.2"))
    assert over.placed(target_down)
    assert over.rejected(intent(account="b-paper")).reason is RejectReason.ACCOUNT_LIMIT


def test_a_signal_older_than_the_limit_is_rejected_as_stale_with_both_times() -> None:
    late = World().but(now=NOON + timedelta(seconds=121))
    rejection = late.rejected(intent(received_at=NOON))
    assert rejection.reason is RejectReason.STALE_SIGNAL
    assert "2026-01-07 12:00:00 UTC" in rejection.message
    assert "12:02:01 UTC, 121 s later" in rejection.message
    assert World().but(now=NOON + timedelta(seconds=120)).placed(intent(received_at=NOON))


def test_tradingviews_own_time_dates_the_signal_when_the_alert_carries_it() -> None:
    fired_earlier = intent(received_at=NOON, alert_time=NOON - timedelta(minutes=5))
    assert World().rejected(fired_earlier).reason is RejectReason.STALE_SIGNAL


def test_the_age_limit_is_the_traders_to_set_or_turn_off() -> None:
    late = World().but(now=NOON + timedelta(minutes=10))
    lenient = late.but(settings=TenantSettings(tenant=layer(max_signal_age_s=900)))
    (order,) = lenient.placed(intent(received_at=NOON)).orders
    assert (order.signal_at, order.max_signal_age_s) == (NOON, 900)
    off = late.but(settings=TenantSettings(tenant=layer(max_signal_age_s=0)))
    assert off.placed(intent(received_at=NOON)).orders[0].max_signal_age_s is None


def test_every_order_carries_its_signal_time_and_age_limit_for_the_executor() -> None:
    (order,) = World().placed(intent(received_at=NOON)).orders
    assert (order.signal_at, order.max_signal_age_s) == (NOON, 120)

"""Who may trade at all: tenant status, the alert quota, kill switches, accounts, live trading."""

from __future__ import annotations

from decimal import Decimal

from libs.common.messages import AccountMode, Action, RejectReason
from libs.common.records import AccountStatus, TenantStatus
from services.router.domain.decisions import QuotaState
from services.router.domain.layers import TenantSettings
from tests import factories
from tests.helpers.router import account, intent, layer
from tests.unit.router.world import World

WORLD = World()


def test_an_unknown_tenant_is_refused_and_not_counted() -> None:
    rejection = WORLD.but(tenant=None).rejected(intent())
    assert rejection.reason is RejectReason.TENANT_UNKNOWN
    assert not rejection.counts_alert


def test_a_suspended_tenant_is_refused_and_not_counted() -> None:
    suspended = factories.tenant_record("tenant-a", status=TenantStatus.SUSPENDED)
    rejection = WORLD.but(tenant=suspended).rejected(intent())
    assert rejection.reason is RejectReason.TENANT_INACTIVE
    assert "suspended" in rejection.message
    assert not rejection.counts_alert


def test_the_alert_beyond_the_hourly_quota_is_refused_and_not_counted() -> None:
    tenant = factories.tenant_record("tenant-a")  # free plan: 10 alerts per hour
    world = WORLD.but(tenant=tenant, quota=QuotaState(alerts_this_hour=10))
    rejection = world.rejected(intent())
    assert rejection.reason is RejectReason.QUOTA_EXCEEDED
    assert "10 alerts per hour" in rejection.message
    assert not rejection.counts_alert
    assert WORLD.but(tenant=tenant, quota=QuotaState(alerts_this_hour=9)).placed(intent())


def test_a_redelivered_intent_already_counted_is_not_refused_by_the_quota() -> None:
    tenant = factories.tenant_record("tenant-a")
    quota = QuotaState(alerts_this_hour=10, orders_today=20, already_counted=True)
    placement = WORLD.but(tenant=tenant, quota=quota).placed(intent())
    assert len(placement.orders) == 1


def test_the_kill_switch_stops_everything_and_says_where_it_is() -> None:
    for settings, words in [
        (TenantSettings(tenant=layer(enabled=False)), "whole account"),
        (TenantSettings(accounts={"main": layer(enabled=False)}), "exchange account"),
        (TenantSettings(symbols={("main", "BTCUSDT"): layer(enabled=False)}), "symbol"),
    ]:
        rejection = WORLD.but(settings=settings).rejected(intent(action=Action.CLOSE))
        assert rejection.reason is RejectReason.KILL_SWITCH
        assert words in rejection.message


def test_a_lower_layer_cannot_switch_back_on_what_a_higher_one_switched_off() -> None:
    settings = TenantSettings(tenant=layer(enabled=False), accounts={"main": layer(enabled=True)})
    assert WORLD.but(settings=settings).rejected(intent()).reason is RejectReason.KILL_SWITCH


def test_an_alert_without_account_uses_the_only_account() -> None:
    assert WORLD.placed(intent(account=None)).orders[0].account_label == "main"


def test_an_alert_without_account_uses_the_default_account() -> None:
    accounts = {"main": account(), "alt": account(label="alt")}
    settings = TenantSettings(tenant=layer(default_account="alt"))
    placement = WORLD.but(accounts=accounts, settings=settings).placed(intent(account=None))
    assert placement.orders[0].account_label == "alt"


def test_an_alert_without_account_among_several_is_refused_with_the_choices() -> None:
    accounts = {"main": account(), "alt": account(label="alt")}
    rejection = WORLD.but(accounts=accounts).rejected(intent(account=None))
    assert rejection.reason is RejectReason.UNKNOWN_ACCOUNT
    assert "alt, main" in rejection.message
    assert "default_account" in rejection.message


def test_a_tenant_without_accounts_is_told_to_add_one() -> None:
    rejection = WORLD.but(accounts={}).rejected(intent(account=None))
    assert rejection.reason is RejectReason.UNKNOWN_ACCOUNT
    assert "no exchange account yet" in rejection.message


def test_an_unknown_account_label_is_refused_listing_the_accounts() -> None:
    rejection = WORLD.rejected(intent(account="other"))
    assert rejection.reason is RejectReason.UNKNOWN_ACCOUNT
    assert "'other'" in rejection.message
    assert "Yours: main" in rejection.message


def test_an_account_whose_keys_failed_validation_is_refused() -> None:
    accounts = {"main": account(status=AccountStatus.INVALID)}
    rejection = WORLD.but(accounts=accounts).rejected(intent())
    assert rejection.reason is RejectReason.UNKNOWN_ACCOUNT
    assert "failed validation" in rejection.message


def test_an_unvalidated_account_may_trade() -> None:
    accounts = {"main": account(status=AccountStatus.UNVALIDATED)}
    assert WORLD.but(accounts=accounts).placed(intent())


def test_accounts_beyond_the_plan_limit_are_refused() -> None:
    accounts = {"a": account(label="a"), "b": account(label="b")}  # free plan: one account
    world = WORLD.but(accounts=accounts)
    assert world.placed(intent(account="a")).orders[0].account_label == "a"
    rejection = world.rejected(intent(account="b"))
    assert rejection.reason is RejectReason.ACCOUNT_LIMIT
    assert "allows 1 exchange account" in rejection.message


def test_a_live_account_is_refused_on_a_plan_without_live_trading() -> None:
    accounts = {"main": account(mode=AccountMode.LIVE)}
    rejection = WORLD.but(accounts=accounts).rejected(intent())
    assert rejection.reason is RejectReason.LIVE_TRADING_NOT_ALLOWED
    assert "free" in rejection.message


def test_paper_and_testnet_accounts_trade_on_any_plan() -> None:
    for mode in (AccountMode.PAPER, AccountMode.TESTNET):
        placement = WORLD.but(accounts={"main": account(mode=mode)}).placed(intent())
        assert placement.orders[0].mode is mode


def test_a_live_account_trades_on_a_plan_with_live_trading() -> None:
    basic = factories.tenant_record(
        "tenant-a", plan="basic", limits=factories.plan_limits(live_trading=True)
    )
    world = WORLD.but(tenant=basic, accounts={"main": account(mode=AccountMode.LIVE)})
    order = world.placed(intent()).orders[0]
    assert order.mode is AccountMode.LIVE
    assert order.sizing.value == Decimal("0.01")

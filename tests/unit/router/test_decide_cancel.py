"""A cancel alert becomes one cancel, and only reduces risk: nothing but the tenant, its account
and its symbol can stop it."""

from __future__ import annotations

from libs.common.messages import Action, RejectReason
from libs.common.records import TenantStatus
from services.router.domain.decisions import Cancellation, CancelSpec, QuotaState
from services.router.domain.kept import Kept, commit_of
from services.router.domain.layers import TenantSettings
from tests import factories
from tests.helpers.router import NOON, account, futures, instrument, intent, layer
from tests.unit.router.world import World

PERP = instrument("BINANCE:BTCUSDT.P")
FUTURES = World(accounts={"main": futures()})
COID = "sp01KABCDEFGHJKMNPQRSTVWXYZ0"


def cancelled(world: World, **alert: object) -> CancelSpec:
    decision = world.decide(intent(action=Action.CANCEL, **alert))  # type: ignore[arg-type]
    assert isinstance(decision, Cancellation), decision
    return decision.cancel


def test_a_cancel_names_the_account_and_the_ccxt_symbol_and_the_order_when_given() -> None:
    spec = cancelled(FUTURES, instrument=PERP, client_order_id=COID)
    assert spec == CancelSpec(
        account_label="main",
        exchange_id="binance",
        mode=futures().mode,
        symbol="BTC/USDT:USDT",
        client_order_id=COID,
    )
    assert cancelled(World()).client_order_id is None  # every open order of the symbol


def test_a_suspended_tenant_can_still_cancel() -> None:
    suspended = factories.tenant_record("tenant-a", status=TenantStatus.SUSPENDED)
    assert cancelled(FUTURES.but(tenant=suspended), instrument=PERP).symbol == "BTC/USDT:USDT"


def test_an_unknown_tenant_cannot() -> None:
    rejection = World(tenant=None).rejected(intent(action=Action.CANCEL))
    assert rejection.reason is RejectReason.TENANT_UNKNOWN
    assert not rejection.counts_alert


def test_no_kill_switch_quota_window_or_plan_limit_stops_a_cancel() -> None:
    tenant = factories.tenant_record(
        "tenant-a", limits=factories.plan_limits(max_alerts_per_hour=1, max_orders_per_day=1)
    )
    settings = TenantSettings(
        tenant=layer(
            enabled=False,
            trading_windows=[{"days": ["sun"], "start": "00:00", "end": "01:00"}],
            blocked_symbols=["BTCUSDT"],
        )
    )
    world = World(
        tenant=tenant,
        settings=settings,
        quota=QuotaState(alerts_this_hour=5, orders_today=5),
        accounts={"main": account(), "alt": account(label="alt")},
    )
    assert cancelled(world, account="alt").account_label == "alt"


def test_a_cancel_still_needs_an_account_and_a_symbol_it_can_name() -> None:
    unknown = World().rejected(intent(action=Action.CANCEL, account="nope"))
    assert unknown.reason is RejectReason.UNKNOWN_ACCOUNT
    perp_on_spot = World().rejected(intent(action=Action.CANCEL, instrument=PERP))
    assert perp_on_spot.reason is RejectReason.UNKNOWN_SYMBOL


def test_a_kept_cancel_reads_back_with_its_one_message_id_counting_one_alert_no_order() -> None:
    decision = FUTURES.decide(intent(action=Action.CANCEL, instrument=PERP))
    commit = commit_of(decision, NOON)
    kept = Kept.decode(commit.kept.encode())
    assert kept == commit.kept
    assert (kept.cancel, kept.orders, kept.reason, len(kept.ids)) == (
        decision.cancel,  # type: ignore[union-attr]
        (),
        None,
        1,
    )
    assert (commit.alerts, commit.orders) == (1, 0)
    assert (commit.if_alerts_exceeded, commit.if_orders_exceeded) == (None, None)

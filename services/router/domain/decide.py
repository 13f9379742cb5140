"""The router's decisions: pure functions of what it knows, no I/O.

`decide` turns one intent into the orders to place (or a cancel), or a rejection whose message
a trader understands, with the settings in force (`services.router.domain.layers`). Checks run
in a fixed order, and the first that fails names the reason: tenant, alert quota, kill switch,
paused strategy, account, signal age, symbol, direction and sizing, exits; then, for orders
that add to a position only, the plan's account limit and live trading, leverage (spot: none;
futures: within the plan's and the trader's caps), trading window, size caps, open positions;
last the order quota. Exits are always allowed: a lapsed or downgraded plan never traps a
trader in a position. A ``cancel`` only needs a known tenant, its account and its symbol: it
only reduces risk, so a suspended tenant, the kill switch, a paused strategy, the quotas and
the plan never stop it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from libs.common.messages import (
    Action,
    DriftPolicy,
    Instrument,
    OrderIntent,
    OrderSpec,
    OrderType,
    RejectReason,
)
from libs.common.records import AccountRecord, MarketType, PlanLimits, TenantRecord
from services.router.domain import checks
from services.router.domain.decisions import (
    Cancellation,
    CancelSpec,
    Decision,
    Placement,
    Positions,
    QuotaLimits,
    QuotaState,
    Refused,
    Rejection,
    refuse,
)
from services.router.domain.exits import Exits, check_exits, exits_of
from services.router.domain.layers import TenantSettings, effective_settings
from services.router.domain.legs import Leg, expected_position, plan_legs
from services.router.domain.leverage import cap_of, order_leverage
from services.router.domain.trade_settings import EffectiveSettings, Scope

_SCOPE_WORDS = {
    Scope.TENANT: "for your whole account",
    Scope.ACCOUNT: "for this exchange account",
    Scope.SYMBOL: "for this symbol",
}


def decide(
    intent: OrderIntent,
    *,
    settings: TenantSettings,
    tenant: TenantRecord | None,
    accounts: Mapping[str, AccountRecord],
    positions: Positions,
    quota: QuotaState,
    now: datetime,
) -> Decision:
    """Return the orders ``intent`` becomes, or why it is refused."""
    if intent.alert.action is Action.CANCEL:
        try:
            return _cancel(intent, settings=settings, tenant=tenant, accounts=accounts)
        except Refused as refused:
            return Rejection(refused.reason, refused.message, counts_alert=tenant is not None)
    try:
        active = _active(tenant)
        limits = QuotaLimits(active.limits.max_alerts_per_hour, active.limits.max_orders_per_day)
        checks.check_alert_quota(limits, quota)
    except Refused as refused:  # not counted: the alert quota is for tenants that may trade
        return Rejection(refused.reason, refused.message, counts_alert=False)
    try:
        return _orders(
            intent,
            settings=settings,
            tenant=active,
            accounts=accounts,
            positions=positions,
            quota=quota,
            now=now,
        )
    except Refused as refused:
        return Rejection(refused.reason, refused.message, limits)


def _known(tenant: TenantRecord | None) -> TenantRecord:
    if tenant is None:
        raise refuse(RejectReason.TENANT_UNKNOWN, "This account is not known to Sparky.")
    return tenant


def _active(tenant: TenantRecord | None) -> TenantRecord:
    if not _known(tenant).active:
        raise refuse(
            RejectReason.TENANT_INACTIVE, "Your account is suspended; no orders are placed."
        )
    assert tenant is not None  # noqa: S101 - _known refused None
    return tenant


def _cancel(
    intent: OrderIntent,
    *,
    settings: TenantSettings,
    tenant: TenantRecord | None,
    accounts: Mapping[str, AccountRecord],
) -> Cancellation:
    """A cancel of a known tenant, even a suspended one: it only takes risk off the table."""
    _known(tenant)
    alert = intent.alert
    label = alert.account or effective_settings(settings).default_account
    account = checks.account_for(label, accounts, alert.instrument)
    eff = effective_settings(settings, account.label, alert.instrument.symbol.upper())
    symbol = checks.symbol_for(alert.instrument, account.market_type, eff)
    spec = CancelSpec(
        account_label=account.label,
        exchange_id=account.exchange_id,
        mode=account.mode,
        symbol=symbol,
        client_order_id=alert.client_order_id,
    )
    return Cancellation(spec)


def _orders(
    intent: OrderIntent,
    *,
    settings: TenantSettings,
    tenant: TenantRecord,
    accounts: Mapping[str, AccountRecord],
    positions: Positions,
    quota: QuotaState,
    now: datetime,
) -> Placement:
    alert, limits = intent.alert, tenant.limits
    tenant_wide = effective_settings(settings)
    _check_enabled(tenant_wide)
    _check_strategy(alert.strategy, tenant_wide)
    label = alert.account or tenant_wide.default_account
    account = checks.account_for(label, accounts, alert.instrument)
    eff = effective_settings(settings, account.label, alert.instrument.symbol.upper())
    _check_enabled(eff)
    checks.check_fresh(_signal_at(intent), eff, now)
    symbol = checks.symbol_for(alert.instrument, account.market_type, eff)
    checks.check_listed(alert.instrument, symbol, eff)
    position = _position(positions, account, symbol)
    legs = plan_legs(alert, eff, account.market_type, position)
    exits = exits_of(alert, eff)
    check_exits(alert, exits, legs, account, _limit_price(intent))
    leverage, cap = None, None
    if any(leg.opening for leg in legs):
        checks.check_account_limit(account, accounts, limits)
        checks.check_live(account, tenant.plan, limits)
        where = _SCOPE_WORDS[_set_by(settings, account.label, alert.instrument, "max_leverage")]
        cap = cap_of(tenant.plan, limits, eff, where)
        leverage = order_leverage(alert, eff, account, cap)
        checks.check_window(eff, now)
        checks.check_caps(legs, _limit_price(intent), symbol, eff)
        if position == 0:
            checks.check_open_positions(eff, positions, account, symbol)
    quota_limits = QuotaLimits(limits.max_alerts_per_hour, _lower(limits, eff))
    checks.check_order_quota(quota_limits, quota, len(legs), limits.max_orders_per_day)
    capped = cap.value if cap is not None and leverage is None else None
    opening = _Opening(leverage, capped, exits)
    orders = (
        _order(n, intent, account, symbol, eff, opening=opening, last=n[0] == len(legs) - 1)
        for n in enumerate(legs)
    )
    return Placement(tuple(orders), quota_limits)


@dataclass(frozen=True, slots=True)
class _Opening:
    """What an opening leg carries besides the alert's order: leverage and exits."""

    leverage: Decimal | None
    max_leverage: Decimal | None
    exits: Exits


def _set_by(settings: TenantSettings, account: str, instrument: Instrument, name: str) -> Scope:
    """Return the most specific layer that sets ``name`` (the tenant's when none does)."""
    for scope, layer in reversed(settings.layers(account, instrument.symbol.upper())):
        if getattr(layer, name) is not None:
            return scope
    return Scope.TENANT


def _check_enabled(settings: EffectiveSettings) -> None:
    if settings.disabled_by is not None:
        raise refuse(
            RejectReason.KILL_SWITCH,
            f"Trading is switched off {_SCOPE_WORDS[settings.disabled_by]} (kill switch in "
            "your trade settings).",
        )


def _check_strategy(strategy: str | None, settings: EffectiveSettings) -> None:
    if strategy is not None and strategy in settings.paused_strategies:
        raise refuse(
            RejectReason.STRATEGY_PAUSED,
            f"Strategy {strategy} is paused (paused_strategies in your trade settings); no "
            "order was placed. Resume it to trade it again.",
        )


def _position(positions: Positions, account: AccountRecord, symbol: str) -> Decimal:
    held = positions.get((account.label, symbol), Decimal(0))
    return max(held, Decimal(0)) if account.market_type is MarketType.SPOT else held


def _lower(limits: PlanLimits, settings: EffectiveSettings) -> int | None:
    caps = [c for c in (limits.max_orders_per_day, settings.max_orders_per_day) if c is not None]
    return min(caps) if caps else None


def _order(
    numbered: tuple[int, Leg],
    intent: OrderIntent,
    account: AccountRecord,
    symbol: str,
    eff: EffectiveSettings,
    *,
    opening: _Opening,
    last: bool,
) -> OrderSpec:
    leg_no, leg = numbered
    alert = intent.alert
    futures_open = leg.opening and account.market_type is MarketType.FUTURES
    # TradingView's position of the strategy is the one after the last leg.
    expected = expected_position(alert, account.market_type) if last else None
    heal = expected is not None and eff.position_drift is DriftPolicy.HEAL
    return OrderSpec(
        leg=leg_no,
        account_label=account.label,
        exchange_id=account.exchange_id,
        mode=account.mode,
        symbol=symbol,
        side=leg.side,
        order_type=alert.order_type if leg.priced else OrderType.MARKET,
        sizing=leg.sizing,
        limit_price=_limit_price(intent) if leg.priced else None,
        reduce_only=leg.reduce_only,
        leverage=opening.leverage if futures_open else None,
        max_leverage=opening.max_leverage if futures_open else None,
        margin_mode=eff.margin_mode if futures_open else None,
        take_profit=opening.exits.take_profit if leg.opening else None,
        stop_loss=opening.exits.stop_loss if leg.opening else None,
        # Sizes in % of equity or of a position are known only with live data: the executor
        # enforces the caps then. Closing orders are never capped, as in the router's checks.
        max_base=eff.max_order_base if leg.opening else None,
        max_quote=eff.max_order_quote if leg.opening else None,
        signal_at=_signal_at(intent),
        max_signal_age_s=eff.max_signal_age_s or None,
        expected_position=expected,
        heal_drift=heal and not alert.is_target_position,
    )


def _signal_at(intent: OrderIntent) -> datetime:
    """When the signal fired: TradingView's time when the alert carried it, else its receipt."""
    return intent.alert.alert_time or intent.received_at


def _limit_price(intent: OrderIntent) -> Decimal | None:
    alert = intent.alert
    return alert.price if alert.order_type is OrderType.LIMIT else None

"""Whatever the alert, no order leaves the tenant's limits (a property over generated inputs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from libs.common.messages import (
    AccountMode,
    Action,
    MarketPosition,
    OrderSpec,
    OrderType,
    QuantityType,
    Side,
    SizingRule,
)
from libs.common.records import MarketType
from services.router.domain.decisions import (
    Cancellation,
    Placement,
    Positions,
    QuotaState,
)
from services.router.domain.layers import TenantSettings, effective_settings
from services.router.domain.symbols import listed, names_of
from services.router.domain.trade_settings import Directions, EffectiveSettings, TradeSettingsLayer
from tests import factories
from tests.helpers.router import account, instrument, intent
from tests.unit.router.world import World

TICKERS = ("BTCUSDT", "BINANCE:ETHUSDT", "BTCUSDT.P", "SOLUSDC", "BTC/USDT", "XRPUSD.P")
SYMBOLS = ("BTC/USDT", "BTC/USDT:USDT", "ETH/USDT", "ETH/USDT:USDT", "SOL/USDC:USDC")


def decimals(low: str, high: str, places: int = 4) -> st.SearchStrategy[Decimal]:
    return st.decimals(Decimal(low), Decimal(high), places=places, allow_nan=False)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def rarely(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), st.none(), st.none(), strategy)


windows = st.lists(
    st.fixed_dictionaries(
        {
            "days": st.lists(
                st.sampled_from(["mon", "wed", "fri", "sun"]), min_size=1, unique=True
            ),
            "start": st.sampled_from(["00:00", "08:00", "13:30", "22:00"]),
            "end": st.sampled_from(["06:00", "12:00", "20:00", "23:59"]),
        }
    ),
    min_size=1,
    max_size=2,
)
layers = st.builds(
    lambda **f: TradeSettingsLayer.model_validate({k: v for k, v in f.items() if v is not None}),
    enabled=st.sampled_from([None] * 10 + [True, False]),
    quantity=maybe(decimals("0.001", "50")),
    quantity_type=maybe(st.sampled_from([QuantityType.BASE, QuantityType.QUOTE])),
    max_order_base=maybe(decimals("0.001", "5")),
    max_order_quote=maybe(decimals("1", "20000", 2)),
    directions=maybe(st.sampled_from(list(Directions))),
    opposite_signal=maybe(st.sampled_from(["reverse", "close_only", "ignore"])),
    allowed_symbols=rarely(st.lists(st.sampled_from(TICKERS + SYMBOLS), min_size=1, max_size=3)),
    blocked_symbols=rarely(st.lists(st.sampled_from(TICKERS + SYMBOLS), max_size=2)),
    trading_windows=maybe(windows),
    max_open_positions=maybe(st.integers(0, 3)),
    leverage=rarely(decimals("1", "50", 0)),
    max_leverage=rarely(decimals("1", "50", 0)),
)
alerts = st.fixed_dictionaries(
    {
        "action": st.sampled_from(list(Action)),
        "instrument": st.sampled_from(TICKERS).map(instrument),
        "quantity": maybe(decimals("0.0001", "3000")),
        "quantity_type": maybe(st.sampled_from(list(QuantityType))),
        "position_size": maybe(decimals("-10", "10")),
        "market_position": maybe(st.sampled_from(list(MarketPosition))),
        "leverage": rarely(decimals("1", "60", 0)),
    }
)
priced = st.one_of(
    st.just({"order_type": OrderType.MARKET}),
    decimals("1", "100000", 2).map(lambda p: {"order_type": OrderType.LIMIT, "price": p}),
)
worlds = st.builds(
    lambda tenant, acct, live, cap, held, used, minutes: World(
        tenant=factories.tenant_record(
            "tenant-a",
            limits=factories.plan_limits(
                live_trading=live, max_alerts_per_hour=None, max_leverage=cap
            ),
        ),
        settings=TenantSettings(tenant=tenant, accounts={"main": acct}),
        accounts={"main": account(market_type=held[0], mode=held[1] or AccountMode.PAPER)},
        positions=held[2],
        quota=QuotaState(orders_today=used),
        now=datetime(2026, 1, 5, tzinfo=UTC) + timedelta(minutes=minutes),
    ),
    layers,
    layers,
    st.booleans(),
    maybe(st.sampled_from([5, 10, 20, 125])),
    st.tuples(
        st.sampled_from(list(MarketType)),
        st.sampled_from([AccountMode.PAPER, AccountMode.TESTNET, AccountMode.LIVE, None]),
        st.dictionaries(st.tuples(st.just("main"), st.sampled_from(SYMBOLS)), decimals("-3", "3")),
    ),
    st.integers(0, 21),
    st.integers(0, 7 * 24 * 60),
)


def opens(order: OrderSpec, market: MarketType) -> bool:
    """Whether the order may add exposure."""
    return not order.reduce_only if market is MarketType.FUTURES else order.side is Side.BUY


def opens_from(order: OrderSpec, market: MarketType, positions: Positions) -> bool:
    """Whether the order may add exposure to what the router knew was held."""
    if order.sizing.rule is not SizingRule.TARGET_POSITION:
        return opens(order, market)
    held = positions.get(("main", order.symbol), Decimal(0))
    held = max(held, Decimal(0)) if market is MarketType.SPOT else held
    target = order.sizing.value
    return not (target == 0 or (target * held > 0 and abs(target) <= abs(held)))


def check_size(order: OrderSpec, eff: EffectiveSettings) -> None:
    rule, value = order.sizing.rule, abs(order.sizing.value)
    base = value if rule in (SizingRule.BASE, SizingRule.TARGET_POSITION) else None
    quote = value if rule is SizingRule.QUOTE else None
    if order.limit_price is not None:
        quote = base * order.limit_price if base is not None else quote
        base = quote / order.limit_price if quote is not None and base is None else base
    assert eff.max_order_base is None or base is None or base <= eff.max_order_base
    assert eff.max_order_quote is None or quote is None or quote <= eff.max_order_quote


def check_direction(order: OrderSpec, eff: EffectiveSettings, market: MarketType) -> None:
    futures = market is MarketType.FUTURES
    target = order.sizing.value if order.sizing.rule is SizingRule.TARGET_POSITION else None
    if not futures or eff.directions is Directions.LONG_ONLY:
        assert target is None or target >= 0
    if futures and eff.directions is Directions.LONG_ONLY and target is None:
        assert order.side is Side.BUY or order.reduce_only
    if futures and eff.directions is Directions.SHORT_ONLY:
        assert target is None or target <= 0
        assert order.side is Side.SELL or order.reduce_only or target is not None


def check_leverage(order: OrderSpec, eff: EffectiveSettings, plan_cap: int | None) -> None:
    caps = [c for c in (plan_cap, eff.max_leverage) if c is not None]
    assert order.leverage is None or order.leverage <= min(caps, default=order.leverage)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=worlds, alert=alerts, price=priced)
def test_no_generated_intent_yields_an_order_outside_the_tenants_limits(
    world: World, alert: dict[str, Any], price: dict[str, Any]
) -> None:
    order_intent = intent(received_at=world.now, **alert, **price)
    decision = world.decide(order_intent)
    if isinstance(decision, Cancellation):
        event("canceled")
        return
    event("placed" if isinstance(decision, Placement) else decision.reason.value)
    if not isinstance(decision, Placement):
        return
    record = world.accounts["main"]
    eff = effective_settings(world.settings, "main", order_intent.alert.instrument.symbol.upper())
    assert eff.enabled
    live_allowed = world.tenant.limits.live_trading  # type: ignore[union-attr]
    assert world.quota.orders_today + len(decision.orders) <= 20
    for order in decision.orders:
        # A plan without live trading may still get out of a live position, never into one.
        assert (
            record.mode is not AccountMode.LIVE
            or live_allowed
            or not opens_from(order, record.market_type, world.positions)
        )
        names = names_of(order_intent.alert.instrument, order.symbol)
        assert eff.allowed_symbols is None or listed(eff.allowed_symbols, names)
        assert not listed(eff.blocked_symbols, names)
        check_direction(order, eff, record.market_type)
        if opens(order, record.market_type):
            windows = eff.trading_windows
            assert windows is None or any(w.contains(world.now) for w in windows)
            check_size(order, eff)
            check_leverage(order, eff, world.tenant.limits.max_leverage)  # type: ignore[union-attr]

"""Pausing a strategy: its alerts place nothing, entries and exits alike; a cancel still goes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from libs.common.messages import Action, RejectReason
from services.router.domain.decisions import Cancellation
from services.router.domain.layers import TenantSettings
from services.router.domain.trade_settings import MAX_PAUSED, Scope
from tests.helpers.router import intent, layer
from tests.unit.router.world import World

PAUSED = World().but(settings=TenantSettings(tenant=layer(paused_strategies=["Breakout 4h"])))


@pytest.mark.parametrize("action", [Action.BUY, Action.SELL, Action.CLOSE])
def test_every_order_of_a_paused_strategy_is_refused_with_its_name(action: Action) -> None:
    rejection = PAUSED.rejected(intent(action=action, strategy="Breakout 4h"))
    assert rejection.reason is RejectReason.STRATEGY_PAUSED
    assert "Strategy Breakout 4h is paused" in rejection.message


def test_other_strategies_and_alerts_without_one_still_trade() -> None:
    assert PAUSED.placed(intent(strategy="Mean reversion"))
    assert PAUSED.placed(intent(strategy="breakout 4h"))  # names match exactly
    assert PAUSED.placed(intent())


def test_a_cancel_of_a_paused_strategy_still_goes_through() -> None:
    decision = PAUSED.decide(intent(action=Action.CANCEL, strategy="Breakout 4h"))
    assert isinstance(decision, Cancellation)


def test_the_kill_switch_is_named_before_a_paused_strategy() -> None:
    settings = TenantSettings(tenant=layer(enabled=False, paused_strategies=["Breakout 4h"]))
    rejection = PAUSED.but(settings=settings).rejected(intent(strategy="Breakout 4h"))
    assert rejection.reason is RejectReason.KILL_SWITCH


def test_paused_strategies_belong_to_the_tenant_layer_only() -> None:
    paused = layer(paused_strategies=["a"])
    assert paused.scope_errors(Scope.TENANT) == []
    assert paused.scope_errors(Scope.ACCOUNT) == [
        "paused_strategies can only be set on the tenant-wide settings"
    ]


@pytest.mark.parametrize(
    "value",
    [
        [""],
        ["x" * 501],
        ["tab\there"],
        ["s"] * (MAX_PAUSED + 1),
        "Breakout",
    ],
)
def test_paused_strategies_are_refused_when_empty_too_long_or_unprintable(value: object) -> None:
    with pytest.raises(ValidationError):
        layer(paused_strategies=value)

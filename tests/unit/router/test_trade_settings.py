"""Settings layers: validation in words, merging, trading windows, the replica's index."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from libs.common.errors import ConfigurationError
from services.router.config import RouterSettings
from services.router.domain.layers import TenantSettings, effective_settings, merge_layers
from services.router.domain.trade_settings import (
    Directions,
    OppositeSignal,
    Scope,
    TradeSettingsLayer,
    TradingWindow,
)
from tests.helpers.router import layer


def test_each_layer_overrides_the_one_above_and_defaults_fill_the_rest() -> None:
    settings = TenantSettings(
        tenant=layer(quantity=1, leverage=2, directions="long_only"),
        accounts={"main": layer(leverage=3, blocked_symbols=["ETHUSDT"])},
        symbols={("main", "BTCUSDT"): layer(quantity="0.5")},
    )
    eff = effective_settings(settings, "main", "BTCUSDT")
    assert (eff.quantity, eff.leverage, eff.directions) == (
        Decimal("0.5"),
        Decimal(3),
        Directions.LONG_ONLY,
    )
    assert eff.blocked_symbols == ("ETHUSDT",)
    assert eff.opposite_signal is OppositeSignal.REVERSE
    assert effective_settings(settings, "other", "BTCUSDT").leverage == 2
    assert [s for s, _ in settings.layers("main", "BTCUSDT")] == list(Scope)


def test_the_first_layer_that_switches_off_is_named() -> None:
    merged = merge_layers(
        [(Scope.TENANT, layer()), (Scope.ACCOUNT, layer(enabled=False)), (Scope.SYMBOL, layer())]
    )
    assert (merged.enabled, merged.disabled_by) == (False, Scope.ACCOUNT)


def test_symbols_in_lists_are_upper_cased() -> None:
    assert layer(allowed_symbols=["btcusdt"]).allowed_symbols == ("BTCUSDT",)


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"quantity": 0}, "greater than 0"),
        ({"allowed_symbols": []}, "empty allowlist"),
        ({"quantity": 150, "quantity_type": "percent_equity"}, "at most 100"),
        ({"directions": "sideways"}, "long_only"),
        ({"trading_windows": [{"days": [], "start": "08:00", "end": "09:00"}]}, "at least 1"),
        ({"trading_windows": [{"days": ["mon"], "start": "08:00+02:00", "end": "09:00"}]}, "UTC"),
        ({"leverage": 500}, "less than or equal to 200"),
        ({"surprise": 1}, "Extra inputs"),
    ],
)
def test_invalid_settings_are_refused_in_words(fields: dict[str, object], words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TradeSettingsLayer.model_validate(fields)
    assert words in str(caught.value)


def test_fields_that_belong_to_another_layer_are_named() -> None:
    wrong = layer(default_account="main", ccxt_symbol="BTC/USDT", max_open_positions=2)
    assert wrong.scope_errors(Scope.TENANT) == [
        "ccxt_symbol can only be set on a symbol's settings"
    ]
    assert len(wrong.scope_errors(Scope.SYMBOL)) == 2
    assert "max_orders_per_day" in layer(max_orders_per_day=3).scope_errors(Scope.ACCOUNT)[0]


@pytest.mark.parametrize(
    ("when", "inside"),
    [
        (datetime(2026, 1, 5, 22, 30, tzinfo=UTC), True),  # Monday night, in Monday's window
        (datetime(2026, 1, 6, 5, 59, tzinfo=UTC), True),  # Tuesday early, still Monday's
        (datetime(2026, 1, 6, 6, 0, tzinfo=UTC), False),  # the end is exclusive
        (datetime(2026, 1, 6, 22, 30, tzinfo=UTC), False),  # Tuesday night: not listed
        (datetime(2026, 1, 5, 21, 59, tzinfo=UTC), False),
    ],
)
def test_a_window_past_midnight_belongs_to_the_day_it_starts(
    when: datetime,
    inside: bool,  # noqa: FBT001 - a parametrized expectation
) -> None:
    window = TradingWindow.model_validate({"days": ["mon"], "start": "22:00", "end": "06:00"})
    assert window.contains(when) is inside


def test_the_replica_index_comes_from_the_pod_ordinal_when_asked() -> None:
    settings = RouterSettings(replica_index_from_hostname=True, replica_count=3)
    assert settings.resolved_replica_index("sparky-router-2") == 2
    with pytest.raises(ConfigurationError, match="ordinal"):
        settings.resolved_replica_index("router")
    with pytest.raises(ConfigurationError, match="below the replica count"):
        settings.resolved_replica_index("router-3")
    assert RouterSettings(replica_index=1, replica_count=2).resolved_replica_index("x-0") == 1


def test_redis_keys_default_under_the_namespace() -> None:
    assert RouterSettings(namespace="demo").key_prefix == "demo:router:"
    assert RouterSettings(redis_prefix="t:").key_prefix == "t:"
    assert RouterSettings().schema_name == "router"

"""Which settings changes move a kill switch: only ``false`` on a layer switches trading off."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from services.router.domain.kill_switch import kill_switch_notice
from services.router.domain.trade_settings import Scope, TradeSettingsLayer
from services.router.store.records import Change

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
OFF = TradeSettingsLayer(enabled=False)
ON = TradeSettingsLayer(enabled=True)
UNSET = TradeSettingsLayer(quantity=Decimal("0.1"))


def change(old: TradeSettingsLayer | None, new: TradeSettingsLayer | None, **key: str) -> Change:
    scope = Scope.SYMBOL if "symbol" in key else Scope.ACCOUNT if key else Scope.TENANT
    return Change(
        id=7,
        scope=scope,
        account_label=key.get("account"),
        symbol=key.get("symbol"),
        version=2,
        changed_at=AT,
        changed_by="key-1",
        old=old,
        new=new,
    )


@pytest.mark.parametrize(
    ("old", "new", "enabled"),
    [
        (None, OFF, False),
        (UNSET, OFF, False),
        (ON, OFF, False),
        (OFF, None, True),  # the layer that said false is deleted
        (OFF, UNSET, True),
        (OFF, ON, True),
    ],
)
def test_a_change_into_or_out_of_false_is_announced(
    old: TradeSettingsLayer | None, new: TradeSettingsLayer | None, *, enabled: bool
) -> None:
    notice = kill_switch_notice("tenant-a", change(old, new))
    assert notice is not None
    assert (notice.enabled, notice.layer, notice.changed_by) == (enabled, "tenant", "api")
    assert notice.occurred_at == AT


@pytest.mark.parametrize(
    ("old", "new"),
    [(None, ON), (None, UNSET), (UNSET, ON), (ON, None), (OFF, OFF), (ON, UNSET), (UNSET, None)],
)
def test_a_change_that_leaves_trading_as_it_was_is_not_announced(
    old: TradeSettingsLayer | None, new: TradeSettingsLayer | None
) -> None:
    assert kill_switch_notice("tenant-a", change(old, new)) is None


def test_the_notice_names_its_layer_and_is_the_same_message_each_time() -> None:
    symbol = change(None, OFF, account="main", symbol="BTCUSDT")
    notice = kill_switch_notice("tenant-a", symbol)
    assert notice is not None
    assert (notice.layer, notice.account, notice.symbol) == ("symbol", "main", "BTCUSDT")
    assert notice == kill_switch_notice("tenant-a", symbol)
    other_tenant = kill_switch_notice("tenant-b", symbol)
    assert other_tenant is not None
    assert other_tenant.message_id != notice.message_id

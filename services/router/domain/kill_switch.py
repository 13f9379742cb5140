"""Which settings changes move a kill switch, and the ``settings.kill_switch`` event of one.

Pure. A layer switches trading off only with ``enabled: false``; an absent ``enabled`` (or no
layer) lets it through, whatever the value of the layers above. So a change moves the layer's
switch when "off" before and after differ: a PUT from unset to ``true`` moves nothing, the
deletion of a layer that had ``false`` switches it on.
"""

from __future__ import annotations

from libs.common.messages import KillSwitchChanged
from services.router.domain.trade_settings import TradeSettingsLayer
from services.router.store.records import Change


def lets_trade(layer: TradeSettingsLayer | None) -> bool:
    """Whether a layer (None: none) lets trading through: unless it says ``enabled: false``."""
    return layer is None or layer.enabled is not False


def kill_switch_notice(tenant_id: str, change: Change) -> KillSwitchChanged | None:
    """Return the event announcing ``change``'s move of the kill switch; None if it moved none."""
    after = lets_trade(change.new)
    if lets_trade(change.old) == after:
        return None
    return KillSwitchChanged.of(
        tenant_id,
        change.id,
        change.changed_at,
        enabled=after,
        layer=change.scope.value,
        account=change.account_label,
        symbol=change.symbol,
    )

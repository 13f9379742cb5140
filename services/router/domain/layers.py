"""A tenant's trade-settings layers, and the settings in force for an account and a symbol.

Pure. Layers merge most general first (tenant-wide, the account's, the symbol's): a set
field overrides the layers above it, except ``enabled``, a kill switch that a lower layer
cannot switch back on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from services.router.domain.trade_settings import EffectiveSettings, Scope, TradeSettingsLayer


@dataclass(frozen=True, slots=True)
class TenantSettings:
    """Every settings layer of one tenant: tenant-wide, per account, per (account, symbol)."""

    tenant: TradeSettingsLayer | None = None
    accounts: Mapping[str, TradeSettingsLayer] = field(default_factory=dict)
    symbols: Mapping[tuple[str, str], TradeSettingsLayer] = field(default_factory=dict)
    # Merged settings already computed: the cache keeps this object across intents.
    _merged: dict[tuple[str | None, str | None], EffectiveSettings] = field(
        default_factory=dict, compare=False, repr=False
    )

    def layers(
        self, account: str | None, symbol: str | None
    ) -> list[tuple[Scope, TradeSettingsLayer]]:
        """Return the layers that apply to (account, symbol), most general first."""
        found = [(Scope.TENANT, self.tenant)]
        if account is not None:
            found.append((Scope.ACCOUNT, self.accounts.get(account)))
            if symbol is not None:
                found.append((Scope.SYMBOL, self.symbols.get((account, symbol))))
        return [(scope, layer) for scope, layer in found if layer is not None]


def merge_layers(layers: list[tuple[Scope, TradeSettingsLayer]]) -> EffectiveSettings:
    """Merge layers, most general first: a set field overrides the layers above it.

    ``enabled`` is a kill switch instead: false on any layer disables, and a lower layer
    cannot switch back on what a higher one switched off.
    """
    values: dict[str, Any] = {}
    disabled_by: Scope | None = None
    for scope, layer in layers:
        for name in layer.model_fields_set - {"enabled"}:
            value = getattr(layer, name)
            if value is not None:
                values[name] = value
        if layer.enabled is False and disabled_by is None:
            disabled_by = scope
    # Every value was validated in its layer; the defaults fill the rest.
    return EffectiveSettings.model_construct(
        **values, enabled=disabled_by is None, disabled_by=disabled_by
    )


def effective_settings(
    settings: TenantSettings, account: str | None = None, symbol: str | None = None
) -> EffectiveSettings:
    """Return the settings in force for ``account`` and ``symbol`` (a TradingView symbol)."""
    key = (account, symbol)
    merged = settings._merged.get(key)  # noqa: SLF001 - the memo belongs to this module
    if merged is None:
        merged = settings._merged[key] = merge_layers(settings.layers(account, symbol))  # noqa: SLF001
    return merged

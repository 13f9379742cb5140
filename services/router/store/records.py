"""Stored trade-settings layers and changes, as the store returns them and the API shows them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import Field, field_serializer
from sqlalchemy import ColumnElement, Table

from libs.common.messages.types import FrozenModel, UtcDatetime
from services.router.domain.layers import TenantSettings
from services.router.domain.trade_settings import Scope, TradeSettingsLayer


@dataclass(frozen=True, slots=True)
class LayerKey:
    """Which layer: tenant-wide, one account, or one symbol of one account."""

    scope: Scope
    account_label: str = ""
    symbol: str = ""

    @classmethod
    def tenant(cls) -> LayerKey:
        return cls(Scope.TENANT)

    @classmethod
    def account(cls, label: str) -> LayerKey:
        return cls(Scope.ACCOUNT, label)

    @classmethod
    def for_symbol(cls, label: str, symbol: str) -> LayerKey:
        return cls(Scope.SYMBOL, label, symbol.upper())

    def columns(self, tenant_id: str) -> dict[str, str]:
        """Return the key's column values."""
        return {
            "tenant_id": tenant_id,
            "scope": self.scope.value,
            "account_label": self.account_label,
            "symbol": self.symbol,
        }

    def where(self, table: Table, tenant_id: str) -> list[ColumnElement[bool]]:
        """Return the conditions selecting this layer's rows of ``table``."""
        return [
            table.c.tenant_id == tenant_id,
            table.c.account_label == self.account_label,
            table.c.symbol == self.symbol,
        ]

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> LayerKey:
        return cls(Scope(row["scope"]), row["account_label"], row["symbol"])


class StoredLayer(FrozenModel):
    """One layer as stored, with its version and last change."""

    scope: Scope
    account_label: str | None
    symbol: str | None
    settings: TradeSettingsLayer
    version: int
    updated_at: UtcDatetime
    updated_by: str = Field(description="The API key id that made the last change.")

    @property
    def key(self) -> LayerKey:
        return LayerKey(self.scope, self.account_label or "", self.symbol or "")

    @field_serializer("settings")
    def _show_settings(self, layer: TradeSettingsLayer) -> dict[str, Any] | None:
        return _set_fields(layer)

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> StoredLayer:
        return cls(
            scope=Scope(row["scope"]),
            account_label=row["account_label"] or None,
            symbol=row["symbol"] or None,
            settings=TradeSettingsLayer.model_validate(row["settings"]),
            version=row["version"],
            updated_at=row["updated_at"],
            updated_by=row["updated_by"],
        )


class Change(FrozenModel):
    """One change of one layer: who, when, and what it was before and after."""

    id: int
    scope: Scope
    account_label: str | None
    symbol: str | None
    version: int
    changed_at: UtcDatetime
    changed_by: str
    old: TradeSettingsLayer | None = Field(description="None: the layer was created.")
    new: TradeSettingsLayer | None = Field(description="None: the layer was deleted.")

    @property
    def key(self) -> LayerKey:
        return LayerKey(self.scope, self.account_label or "", self.symbol or "")

    @field_serializer("old", "new")
    def _show_layers(self, layer: TradeSettingsLayer | None) -> dict[str, Any] | None:
        return _set_fields(layer)

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> Change:
        return cls(
            id=row["id"],
            scope=Scope(row["scope"]),
            account_label=row["account_label"] or None,
            symbol=row["symbol"] or None,
            version=row["version"],
            changed_at=row["changed_at"],
            changed_by=row["changed_by"],
            old=_layer(row["old"]),
            new=_layer(row["new"]),
        )


def _set_fields(layer: TradeSettingsLayer | None) -> dict[str, Any] | None:
    """Show a layer as what it sets: an absent field is inherited."""
    return None if layer is None else layer.model_dump(mode="json", exclude_none=True)


def _layer(document: object) -> TradeSettingsLayer | None:
    return None if document is None else TradeSettingsLayer.model_validate(document)


def tenant_settings(layers: Iterable[tuple[LayerKey, TradeSettingsLayer]]) -> TenantSettings:
    """Group a tenant's layers by scope."""
    tenant: TradeSettingsLayer | None = None
    accounts: dict[str, TradeSettingsLayer] = {}
    symbols: dict[tuple[str, str], TradeSettingsLayer] = {}
    for key, layer in layers:
        if key.scope is Scope.TENANT:
            tenant = layer
        elif key.scope is Scope.ACCOUNT:
            accounts[key.account_label] = layer
        else:
            symbols[key.account_label, key.symbol] = layer
    return TenantSettings(tenant, accounts, symbols)

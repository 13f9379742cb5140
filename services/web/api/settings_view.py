"""One layer's form as the template reads it: the inputs' values (stored, or what the trader
typed when the save failed), the errors by input, and the value in force next to each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.web.api.settings_form import Values, item_indices, slot_of
from services.web.api.settings_schema import SettingField

DASH = "\u2013"


@dataclass
class LayerForm:
    """A layer (stored or not yet) and what its form shows."""

    key: str
    fid: str
    title: str
    scope: str  # tenant, account, symbol; "new" for the form that adds one
    account: str = ""
    symbol: str = ""
    version: int | None = None  # None: the layer is not stored (yet)
    updated_at: str | None = None
    values: Values = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    effective: Mapping[str, Any] | None = None

    @property
    def exists(self) -> bool:
        """Whether the router has this layer (only then can it be removed)."""
        return self.version is not None

    @property
    def if_match(self) -> str:
        """The version the save expects: 0 for a layer that must not exist yet."""
        return str(self.version or 0)

    def input_id(self, path: str) -> str:
        return f"{self.fid}-{path.replace('.', '-')}"

    def value(self, path: str) -> str:
        return next(iter(self.values.get(path) or []), "")

    def chosen(self, path: str) -> list[str]:
        return self.values.get(path) or []

    def error(self, path: str) -> str:
        return self.errors.get(path, "")

    def items(self, path: str, limit: int | None) -> list[int]:
        """The list's items shown: those set (or typed), then one empty to add another."""
        present = item_indices(self.values, path, limit)
        room = limit is None or len(present) < limit
        return present + ([max(present, default=-1) + 1] if room else [])

    def in_force(self, name: str) -> str | None:
        """The effective value of a top-level setting for this layer's scope, in words."""
        if self.effective is None or name not in self.effective:
            return None
        return shown(self.effective[name])


def shown(value: Any) -> str:
    """A setting's value as a trader reads it."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return "; ".join(shown(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return " ".join(shown(v) for v in value.values())
    return str(value) if value != "" else DASH


def placed_errors(
    fields: Sequence[SettingField], problems: Iterable[tuple[str, str]]
) -> tuple[dict[str, str], list[str]]:
    """Split errors into those an input holds and the rest (said above the form)."""
    placed: dict[str, str] = {}
    rest: list[str] = []
    for path, message in problems:
        slot = slot_of(fields, path)
        if slot is None:
            rest.append(f"{path}: {message}" if path and path != "request" else message)
        else:
            placed[slot] = f"{placed[slot]} {message}" if slot in placed else message
    return placed, rest

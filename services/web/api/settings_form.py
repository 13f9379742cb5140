"""A settings layer as form values and back, by the fields of `settings_schema`.

Form values are keyed by a field's path (``quantity``, ``trading_windows.0.start``); the
posted names carry the prefix ``s.`` so that they never meet ``csrf_token`` or ``version``.
An empty input means "inherit from the layer above": the field is left out of the body.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from services.web.api.settings_schema import SettingField

PREFIX = "s."
MAX_ITEMS = 50  # a list of objects without maxItems: this many at most
Values = dict[str, list[str]]
BOOLEAN = {"true": True, "false": False}


def form_values(items: Iterable[tuple[str, str]]) -> Values:
    """The posted ``s.*`` inputs, by path (a path may repeat: checkboxes)."""
    values: Values = {}
    for name, value in items:
        if name.startswith(PREFIX):
            values.setdefault(name.removeprefix(PREFIX), []).append(value)
    return values


def values_of(fields: Sequence[SettingField], settings: Mapping[str, Any], at: str = "") -> Values:
    """A stored layer as the form shows it."""
    values: Values = {}
    for f in fields:
        value = settings.get(f.name)
        if value is not None:
            values.update(_value_of(f, value, at + f.name))
    return values


def _value_of(f: SettingField, value: Any, path: str) -> Values:
    if f.kind == "object" and isinstance(value, dict):
        return values_of(f.children, value, path + ".")
    if f.kind == "objects" and isinstance(value, list):
        values: Values = {}
        for i, item in enumerate(value):
            if isinstance(item, dict):
                values.update(values_of(f.children, item, f"{path}.{i}."))
        return values
    return {path: _texts(f, value)}


def _texts(f: SettingField, value: Any) -> list[str]:
    if f.kind == "boolean" and isinstance(value, bool):
        return ["true" if value else "false"]
    if f.kind == "lines" and isinstance(value, list):
        return ["\n".join(str(v) for v in value)]
    if f.kind == "choices" and isinstance(value, list):
        return [str(v) for v in value]
    if f.kind == "time" and isinstance(value, str):
        return [value.removesuffix(":00") if value.count(":") == 2 else value]
    if f.kind in ("json", "object", "objects", "lines", "choices", "boolean"):
        return [json.dumps(value)]
    return [str(value)]


@dataclass
class Parsed:
    """The body to PUT, and the inputs this app could not read, by path."""

    body: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    renames: dict[str, str] = field(default_factory=dict)  # an item's body path → its inputs'

    def form_path(self, path: str) -> str:
        """The form's path of a body path (items left empty are not in the body)."""
        parts = path.split(".")
        for end in range(1, len(parts) + 1):
            head = ".".join(parts[:end])
            if head in self.renames:
                parts[:end] = self.renames[head].split(".")
        return ".".join(parts)


def parse(fields: Sequence[SettingField], values: Values, at: str = "") -> Parsed:
    """The layer's body from the form; empty inputs are left out (inherited)."""
    parsed = Parsed()
    for f in fields:
        path = at + f.name
        try:
            value = _parse_one(f, values, path, parsed)
        except ValueError as exc:
            parsed.errors[path] = str(exc)
            continue
        if value is not None:
            parsed.body[f.name] = value
    return parsed


def _first(values: Values, path: str) -> str:
    return next(iter(values.get(path) or []), "").strip()


def _parse_one(f: SettingField, values: Values, path: str, parsed: Parsed) -> Any:
    if f.kind == "object":
        inner = parse(f.children, values, path + ".")
        parsed.errors.update(inner.errors)
        return inner.body or None
    if f.kind == "objects":
        return _parse_items(f, values, path, parsed)
    if f.kind == "choices":
        chosen = [v for v in values.get(path, []) if v]
        unknown = [v for v in chosen if v not in f.options]
        if unknown:
            raise ValueError(f"Choose among {', '.join(f.options)}.")
        return chosen or None
    return _parse_text(f, _first(values, path))


def _parse_text(f: SettingField, text: str) -> Any:  # noqa: PLR0911 - one return per kind
    if not text:
        return None
    if f.kind == "boolean":
        if text not in BOOLEAN:
            raise ValueError("Choose inherit, on or off.")
        return BOOLEAN[text]
    if f.kind == "integer":
        if not text.isascii() or not text.lstrip("-").isdigit():
            raise ValueError("Enter a whole number, like 3.")
        return int(text)
    if f.kind == "decimal":
        return _decimal(text)
    if f.kind == "lines":
        return [line.strip() for line in text.splitlines() if line.strip()] or None
    if f.kind == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"This is not valid JSON: {exc.msg}.") from None
    return text  # enum, text, time: the router checks them


def _decimal(text: str) -> str:
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError("Enter a number, like 0.5.") from None
    if not text.isascii() or not number.is_finite():
        raise ValueError("Enter a number, like 0.5.")
    return text  # as typed: the router keeps every digit


def item_indices(values: Values, path: str, limit: int | None = None) -> list[int]:
    """The indices of a list's items present in the form (at most ``limit``)."""
    found: set[int] = set()
    head = path + "."
    for name in values:
        index = name.removeprefix(head).split(".", 1)[0] if name.startswith(head) else ""
        if index.isdigit() and len(index) <= 3:  # no list has 1,000 items
            found.add(int(index))
    return sorted(found)[: limit or MAX_ITEMS]


def _parse_items(f: SettingField, values: Values, path: str, parsed: Parsed) -> Any:
    items: list[dict[str, Any]] = []
    for index in item_indices(values, path, f.max_items):
        inner = parse(f.children, values, f"{path}.{index}.")
        parsed.errors.update(inner.errors)
        parsed.renames.update(inner.renames)
        if inner.body:  # an item left empty is no item
            parsed.renames[f"{path}.{len(items)}"] = f"{path}.{index}"
            items.append(inner.body)
    return items or None


def slot_of(fields: Sequence[SettingField], path: str) -> str | None:
    """The form input a router's error path belongs to (``trading_windows.0.days.0`` → the
    days of the first window); None when no input of the form holds it.
    """
    parts = path.split(".")
    found: list[str] = []
    current: Sequence[SettingField] = fields
    while parts:
        f = next((x for x in current if x.name == parts[0]), None)
        if f is None:
            return None
        found.append(parts.pop(0))
        if f.kind == "objects" and parts and parts[0].isdigit():
            found.append(parts.pop(0))
        elif f.kind not in ("object", "objects") or not parts:
            return ".".join(found)
        current = f.children
    return ".".join(found) or None

"""The trade-settings form, generated from the router's published schema (``/openapi.json``).

The web app never imports the router: it reads the JSON schema of the body of
``PUT /api/v1/settings/tenant`` and turns each property into a `SettingField` by its JSON-schema
type. What this renderer cannot represent becomes a small JSON field for that setting alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

LAYER_BODY = ("/api/v1/settings/tenant", "put")
Kind = Literal[
    "boolean", "decimal", "integer", "enum", "text", "time", "lines", "choices", "object",
    "objects", "json",
]  # fmt: skip
Schema = Mapping[str, Any]
NO_PRACTICAL_LIMIT = Decimal(10) ** 15  # 1E+30 caps an amount; a form need not say so
MAX_DEPTH = 4  # deeper nesting than a list of objects of objects is shown as JSON


class SchemaError(ValueError):
    """The document does not describe a settings body this app can read."""


@dataclass(frozen=True)
class SettingField:
    """One input of the form: what it holds, how it is labelled, what bounds it."""

    name: str
    kind: Kind
    label: str
    help: str = ""
    options: tuple[str, ...] = ()
    minimum: str | None = None
    maximum: str | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False
    max_length: int | None = None
    max_items: int | None = None
    required: bool = False
    children: tuple[SettingField, ...] = ()

    @property
    def bounds(self) -> str:
        """The numeric bounds in words ("more than 0, at most 200"), or ""."""
        parts = []
        if self.minimum is not None:
            parts.append(f"{'more than' if self.min_exclusive else 'at least'} {self.minimum}")
        if self.maximum is not None:
            parts.append(f"{'less than' if self.max_exclusive else 'at most'} {self.maximum}")
        return ", ".join(parts)


def layer_fields(document: Schema) -> tuple[SettingField, ...]:
    """The fields of a settings layer, from the router's OpenAPI document."""
    try:
        path, method = LAYER_BODY
        body = document["paths"][path][method]["requestBody"]["content"]["application/json"]
        schema = _resolve(document, body["schema"])
        properties = schema["properties"]
    except (KeyError, TypeError) as exc:
        raise SchemaError(f"no settings body in the router's schema ({exc})") from None
    return tuple(_field(document, name, spec, (), 0) for name, spec in properties.items())


def _resolve(document: Schema, schema: Schema) -> Schema:
    seen = 0
    while "$ref" in schema and seen < MAX_DEPTH * 4:
        pointer = str(schema["$ref"]).removeprefix("#/").split("/")
        target: Any = document
        for part in pointer:
            target = target[part]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        seen += 1
    return schema


def _non_null(document: Schema, schema: Schema) -> Schema:
    """``X | None`` as X (every layer field is optional: None inherits)."""
    schema = _resolve(document, schema)
    options = [o for o in schema.get("anyOf", ()) if o.get("type") != "null"]
    if "anyOf" in schema and len(options) == 1:
        merged = {k: v for k, v in schema.items() if k != "anyOf"}
        return {**_resolve(document, options[0]), **merged}
    return schema


def _is_decimal(schema: Schema) -> bool:
    types = {o.get("type") for o in schema.get("anyOf", ())}
    return schema.get("type") == "number" or types == {"number", "string"}


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _field(
    document: Schema, name: str, raw: Schema, required: tuple[str, ...], depth: int
) -> SettingField:
    schema = _non_null(document, raw)
    common: dict[str, Any] = {
        "name": name,
        "label": _label(name),
        "help": str(schema.get("description") or "").strip(),
        "required": name in required,
    }
    return _scalar(schema, common) or _composite(document, schema, depth, common)


def _scalar(schema: Schema, common: dict[str, Any]) -> SettingField | None:
    kind = schema.get("type")
    if "enum" in schema and all(isinstance(v, str) for v in schema["enum"]):
        return SettingField(kind="enum", options=tuple(schema["enum"]), **common)
    if kind == "boolean":
        return SettingField(kind="boolean", **common)
    if kind == "integer" or _is_decimal(schema):
        return _number(schema, "integer" if kind == "integer" else "decimal", common)
    if kind == "string" and "anyOf" not in schema:
        text_kind: Kind = "time" if schema.get("format") == "time" else "text"
        return SettingField(kind=text_kind, max_length=schema.get("maxLength"), **common)
    return None


def _composite(
    document: Schema, schema: Schema, depth: int, common: dict[str, Any]
) -> SettingField:
    kind = schema.get("type")
    if kind == "array" and depth < MAX_DEPTH:
        return _array(document, schema, depth, common)
    if kind == "object" and "properties" in schema and depth < MAX_DEPTH:
        return SettingField(kind="object", children=_children(document, schema, depth), **common)
    return SettingField(kind="json", **common)


def _children(document: Schema, schema: Schema, depth: int) -> tuple[SettingField, ...]:
    needed = tuple(schema.get("required", ()))
    return tuple(
        _field(document, name, spec, needed, depth + 1)
        for name, spec in schema["properties"].items()
    )


def _array(document: Schema, schema: Schema, depth: int, common: dict[str, Any]) -> SettingField:
    items = _non_null(document, schema.get("items") or {})
    common["max_items"] = schema.get("maxItems")
    if "enum" in items and all(isinstance(v, str) for v in items["enum"]):
        return SettingField(kind="choices", options=tuple(items["enum"]), **common)
    if items.get("type") == "string" and "enum" not in items:
        return SettingField(kind="lines", max_length=items.get("maxLength"), **common)
    if items.get("type") == "object" and "properties" in items:
        return SettingField(kind="objects", children=_children(document, items, depth), **common)
    return SettingField(kind="json", **common)


def _number(schema: Schema, kind: Kind, common: dict[str, Any]) -> SettingField:
    """A number's bounds, in JSON-schema words or pydantic's (a decimal's gt/ge/lt/le)."""
    low, low_open = _bound(schema, ("minimum", "ge"), ("exclusiveMinimum", "gt"))
    high, high_open = _bound(schema, ("maximum", "le"), ("exclusiveMaximum", "lt"))
    return SettingField(
        kind=kind,
        minimum=low,
        maximum=high,
        min_exclusive=low_open,
        max_exclusive=high_open,
        **common,
    )


def _bound(
    schema: Schema, closed: tuple[str, str], opened: tuple[str, str]
) -> tuple[str | None, bool]:
    for keys, exclusive in ((opened, True), (closed, False)):
        for key in keys:
            value = schema.get(key)
            if isinstance(value, int | float | str) and not isinstance(value, bool):
                return _number_text(value), exclusive
    return None, False


def _number_text(value: float | str) -> str | None:
    """A bound as a trader writes it (200, 0.5); none for a technical one (1E+30)."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    if not number.is_finite() or abs(number) >= NO_PRACTICAL_LIMIT:
        return None
    return f"{number.normalize():f}"

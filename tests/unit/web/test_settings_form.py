"""The trade-settings form made from a JSON schema: each setting's input by its type, a form
read back into a layer body (empty inherits), and the router's errors put by their inputs.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from services.router.app import create_app
from services.router.config import RouterSettings
from services.web.api.settings_form import form_values, parse, slot_of, values_of
from services.web.api.settings_schema import SchemaError, SettingField, layer_fields
from services.web.api.settings_view import LayerForm, placed_errors

pytestmark = pytest.mark.unit


@cache
def router_fields() -> dict[str, SettingField]:
    """The fields of the router's own published schema (what the web app reads over HTTP)."""
    document = create_app(RouterSettings()).openapi()
    return {f.name: f for f in layer_fields(document)}


def document_of(properties: dict[str, Any], **components: Any) -> dict[str, Any]:
    body = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/L"}}}}
    return {
        "paths": {"/api/v1/settings/tenant": {"put": {"requestBody": body}}},
        "components": {
            "schemas": {"L": {"type": "object", "properties": properties}, **components}
        },
    }


def test_every_router_setting_gets_an_input_of_its_type_with_help() -> None:
    fields = router_fields()
    kinds = {name: f.kind for name, f in fields.items()}
    assert kinds["enabled"] == "boolean"
    assert kinds["quantity"] == kinds["leverage"] == kinds["stop_loss_percent"] == "decimal"
    assert kinds["max_signal_age_s"] == "integer"
    assert kinds["margin_mode"] == kinds["quantity_type"] == "enum"
    assert kinds["paused_strategies"] == kinds["allowed_symbols"] == "lines"
    assert kinds["trading_windows"] == "objects"
    assert "json" not in kinds.values()  # every setting the router has, the form can show
    assert all(f.help for f in fields.values()), [n for n, f in fields.items() if not f.help]


def test_bounds_come_from_the_schema_in_words() -> None:
    fields = router_fields()
    assert fields["leverage"].bounds == "at least 1, at most 200"
    assert fields["stop_loss_percent"].bounds == "more than 0, less than 100"
    assert fields["quantity"].bounds == "more than 0"  # 1E+30 is no limit a trader needs
    assert fields["max_open_positions"].bounds == "at least 0, at most 10000"
    assert fields["quantity_type"].options == (
        "base",
        "quote",
        "percent_equity",
        "percent_position",
    )


def test_a_trading_window_is_a_fieldset_of_days_and_times() -> None:
    window = router_fields()["trading_windows"]
    assert [(c.name, c.kind, c.required) for c in window.children] == [
        ("days", "choices", True),
        ("start", "time", True),
        ("end", "time", True),
    ]
    assert window.children[0].options == ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    assert window.max_items == 50


def test_what_the_renderer_cannot_represent_is_a_json_field_for_that_setting_only() -> None:
    fields = layer_fields(
        document_of(
            {
                "mix": {
                    "anyOf": [{"type": "integer"}, {"type": "array", "items": {"type": "integer"}}]
                },
                "grid": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
                "nested": {"$ref": "#/components/schemas/N"},
                "on": {"type": "boolean"},
            },
            N={"type": "object", "properties": {"at": {"type": "string"}}},
        )
    )
    assert [(f.name, f.kind) for f in fields] == [
        ("mix", "json"),
        ("grid", "json"),
        ("nested", "object"),
        ("on", "boolean"),
    ]
    parsed = parse(fields, {"mix": ["[1, 2]"], "grid": ["[[1]"], "nested.at": ["x"]})
    assert parsed.body == {"mix": [1, 2], "nested": {"at": "x"}}
    assert "not valid JSON" in parsed.errors["grid"]


def test_a_document_without_the_settings_body_is_refused() -> None:
    with pytest.raises(SchemaError):
        layer_fields({"paths": {}})


def test_empty_inputs_are_left_out_so_the_layer_above_applies() -> None:
    fields = tuple(router_fields().values())
    posted = [
        ("s.enabled", ""),
        ("s.quantity", " "),
        ("s.margin_mode", ""),
        ("s.paused_strategies", "\n"),
        ("s.trading_windows.0.start", ""),
        ("s.trading_windows.0.end", ""),
        ("csrf_token", "x"),
    ]
    parsed = parse(fields, form_values(posted))
    assert parsed.body == {}
    assert parsed.errors == {}


def test_a_filled_form_becomes_the_layer_body_and_back() -> None:
    fields = tuple(router_fields().values())
    posted = [
        ("s.enabled", "false"),
        ("s.quantity", "0.0015"),
        ("s.max_signal_age_s", "90"),
        ("s.margin_mode", "isolated"),
        ("s.paused_strategies", "Breakout 4h\n\n  EMA  \n"),
        ("s.trading_windows.0.days", "mon"),
        ("s.trading_windows.0.days", "fri"),
        ("s.trading_windows.0.start", "08:00"),
        ("s.trading_windows.0.end", "20:00"),
        ("s.trading_windows.1.start", ""),  # the empty one to add: no window
        ("s.trading_windows.1.end", ""),
    ]
    parsed = parse(fields, form_values(posted))
    body = {
        "enabled": False,
        "quantity": "0.0015",
        "max_signal_age_s": 90,
        "margin_mode": "isolated",
        "paused_strategies": ["Breakout 4h", "EMA"],
        "trading_windows": [{"days": ["mon", "fri"], "start": "08:00", "end": "20:00"}],
    }
    assert (parsed.body, parsed.errors) == (body, {})
    stored = body | {
        "trading_windows": [{"days": ["mon", "fri"], "start": "08:00:00", "end": "20:00:00"}]
    }
    assert values_of(fields, stored) == {
        "enabled": ["false"],
        "quantity": ["0.0015"],
        "max_signal_age_s": ["90"],
        "margin_mode": ["isolated"],
        "paused_strategies": ["Breakout 4h\nEMA"],
        "trading_windows.0.days": ["mon", "fri"],
        "trading_windows.0.start": ["08:00"],
        "trading_windows.0.end": ["20:00"],
    }


def test_inputs_the_app_can_tell_are_wrong_are_named_before_calling_the_router() -> None:
    fields = tuple(router_fields().values())
    parsed = parse(
        fields,
        {
            "quantity": ["1,5"],
            "max_open_positions": ["2.5"],
            "enabled": ["yes"],
            "trading_windows.0.days": ["someday"],
        },
    )
    assert set(parsed.errors) == {
        "quantity",
        "max_open_positions",
        "enabled",
        "trading_windows.0.days",
    }
    assert parsed.errors["quantity"] == "Enter a number, like 0.5."


def test_router_errors_land_on_their_inputs_even_when_an_empty_entry_was_skipped() -> None:
    fields = tuple(router_fields().values())
    values = {
        "trading_windows.0.start": [""],
        "trading_windows.1.days": ["mon"],
        "trading_windows.1.start": ["25:00"],
    }
    parsed = parse(fields, values)
    assert parsed.body["trading_windows"] == [{"days": ["mon"], "start": "25:00"}]
    problems = [
        (parsed.form_path("trading_windows.0.start"), "bad time"),
        (parsed.form_path("trading_windows.0.end"), "Field required"),
        ("allowed_symbols.3", "String should match pattern"),
        ("quantity", "Input should be greater than 0"),
        ("request", "a percentage quantity must be at most 100"),
        ("nonsense", "Extra inputs are not permitted"),
    ]
    placed, rest = placed_errors(fields, problems)
    assert placed == {
        "trading_windows.1.start": "bad time",
        "trading_windows.1.end": "Field required",
        "allowed_symbols": "String should match pattern",
        "quantity": "Input should be greater than 0",
    }
    assert rest == [
        "a percentage quantity must be at most 100",
        "nonsense: Extra inputs are not permitted",
    ]
    assert slot_of(fields, "trading_windows") == "trading_windows"


def test_a_layer_form_offers_one_more_window_and_says_what_is_inherited() -> None:
    form = LayerForm(
        key="/",
        fid="layer-0",
        title="Tenant",
        scope="tenant",
        values={"trading_windows.0.start": ["08:00"]},
        effective={"quantity": None, "enabled": True, "paused_strategies": ["a", "b"]},
    )
    assert not form.exists
    assert form.if_match == "0"  # a layer that must not exist yet
    assert form.items("trading_windows", 50) == [0, 1]
    assert form.items("trading_windows", 1) == [0]
    assert form.in_force("enabled") == "on"
    assert form.in_force("paused_strategies") == "a; b"
    assert form.in_force("quantity") == "none"
    assert form.input_id("trading_windows.0.start") == "layer-0-trading_windows-0-start"

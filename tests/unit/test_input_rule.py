"""The one input rule (issue 15): printable text, ASCII digits, ISO 8601 times; and the one error
shape every API answers in, which never echoes what was sent.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import httpx
import pytest
from fastapi import FastAPI, HTTPException, Query
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from libs.common.api import answers, install_error_answers
from libs.common.errors import TemporaryError
from libs.common.messages.types import (
    Iso8601,
    Label,
    MultilineText,
    PositiveAmount,
    SecretText,
    Text,
)

CONTROL = ["a\x00b", "a\x1bb", "a\nb", "a\rb", "a\x7fb", "a\x85b", "a\ud800b"]
# Arabic-Indic, fullwidth and Devanagari twelve.
FOREIGN_TWELVE = ["\u0661\u0662", "\uff11\uff12", "\u0967\u0968"]


@pytest.mark.parametrize("text", CONTROL)
def test_single_line_text_refuses_control_characters_and_lone_surrogates(text: str) -> None:
    for kind in (Text, Label):
        with pytest.raises(ValidationError):
            TypeAdapter(kind).validate_python(text)


@pytest.mark.parametrize("text", ["main", "Compte principal", "账户 1", "🚀 moon", "a b\u00e9"])
def test_printable_text_of_any_script_is_kept_as_it_is(text: str) -> None:
    assert TypeAdapter(Text).validate_python(text) == text


def test_multiline_text_keeps_tabs_and_line_breaks_and_nothing_else() -> None:
    adapter = TypeAdapter(MultilineText)
    assert adapter.validate_python("one\ntwo\r\n\tthree") == "one\ntwo\r\n\tthree"
    for text in ("a\x00b", "a\x1bb", "a\ud800b"):
        with pytest.raises(ValidationError):
            adapter.validate_python(text)


def test_a_secret_is_held_to_the_rule_and_never_shown_in_the_error() -> None:
    adapter = TypeAdapter(Annotated[SecretText, Field(min_length=8)])
    assert adapter.validate_python("abcdefgh").get_secret_value() == "abcdefgh"
    with pytest.raises(ValidationError) as refused:
        adapter.validate_python("s3cr3t\x00value")
    assert refused.value.errors()[0]["msg"].endswith(
        "control characters (such as NUL or a line break)"
    )


@pytest.mark.parametrize("number", FOREIGN_TWELVE)
def test_amounts_are_written_with_ascii_digits_only(number: str) -> None:
    assert Decimal(number) == 12  # what Python alone would make of it
    with pytest.raises(ValidationError):
        TypeAdapter(PositiveAmount).validate_python(number)
    assert TypeAdapter(PositiveAmount).validate_python("12") == 12


@pytest.mark.parametrize("given", ["0.5", "1700000000", "false", "yesterday"])
def test_times_are_iso_8601_text_never_a_number(given: str) -> None:
    day, time = TypeAdapter(Annotated[date, Iso8601]), TypeAdapter(Annotated[datetime, Iso8601])
    for adapter in (day, time):
        with pytest.raises(ValidationError):
            adapter.validate_python(given)
    assert day.validate_python("2026-01-02") == date(2026, 1, 2)


class Body(BaseModel):
    label: Annotated[Text, Field(min_length=1, max_length=8)]
    secret: SecretText


def _app() -> FastAPI:
    app = FastAPI()
    install_error_answers(app)

    @app.post("/things", responses=answers(409))
    async def make(body: Body, after: Annotated[Text | None, Query()] = None) -> dict[str, str]:
        if body.label == "taken":
            raise HTTPException(409, "That label is taken.")
        return {"label": body.label}

    @app.get("/outage")
    async def outage() -> None:
        raise TemporaryError("database unavailable (SQLSTATE 08006) at db.internal:5432")

    return app


async def _call(method: str, path: str, **kwargs: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        return await client.request(method, path, **kwargs)  # type: ignore[arg-type]


async def test_a_bad_field_is_named_in_words_and_what_was_sent_is_not_echoed() -> None:
    answer = await _call(
        "POST", "/things?after=%00", json={"label": "a\u0000b", "secret": "hunter2-hunter2\n"}
    )
    assert answer.status_code == 422
    body = answer.json()
    assert set(body) == {"error", "errors"}
    fields = {problem["field"]: problem["message"] for problem in body["errors"]}
    assert fields == {
        "label": "must not contain control characters (such as NUL or a line break)",
        "secret": "must not contain control characters (such as NUL or a line break)",
        "after": "must not contain control characters (such as NUL or a line break)",
    }
    assert "hunter2" not in answer.text
    assert body["error"].startswith("Invalid request: ")


async def test_every_refusal_has_the_same_shape() -> None:
    conflict = await _call("POST", "/things", json={"label": "taken", "secret": "x"})
    unknown = await _call("GET", "/nowhere")
    wrong_method = await _call("DELETE", "/things")
    outage = await _call("GET", "/outage")
    for answer, status in ((conflict, 409), (unknown, 404), (wrong_method, 405), (outage, 503)):
        assert answer.status_code == status
        assert isinstance(answer.json()["error"], str)
        assert answer.json()["errors"] == []
    assert int(outage.headers["Retry-After"]) > 0
    assert "08006" not in outage.text  # the reason is for the logs, not the caller
    assert "db.internal" not in outage.text


def test_the_openapi_documents_the_error_shape_and_the_servers_refusals() -> None:
    document = _app().openapi()
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert {"ErrorBody", "FieldProblem"} <= set(schemas)
    responses = document["paths"]["/things"]["post"]["responses"]
    assert {"200", "400", "408", "409", "413", "422"} <= set(responses)
    for status in ("409", "422", "413"):
        schema = responses[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorBody"}
    label = schemas["Body"]["properties"]["label"]
    assert label["pattern"] == r"^[^\x00-\x1f\x7f-\x9f]*$"

"""The OpenAPI documents under docs/api/ are what the apps serve, and show how to call them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema_rs import Draft202012Validator

from scripts.render_openapi import APPS, RENDER, ROOT, document, dumps, main, path_of


@pytest.fixture(scope="module", params=sorted(APPS))
def rendered(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    """One service's document, rendered from its app."""
    service: str = request.param
    return service, document(service)


def test_each_committed_document_is_what_its_app_serves(
    rendered: tuple[str, dict[str, Any]],
) -> None:
    service, found = rendered
    committed = path_of(service)
    assert committed.exists(), f"{committed.relative_to(ROOT)} is missing: run `{RENDER}`"
    assert committed.read_text(encoding="utf-8") == dumps(found), (
        f"{committed.relative_to(ROOT)} is stale: run `{RENDER}`"
    )


def test_the_check_names_a_stale_document(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setattr("scripts.render_openapi.ROOT", tmp_path)
    assert main(["--check"]) == 1
    assert "docs/api/ingress.json is stale" in capsys.readouterr().err


# The paper exchange's Binance-compatible routes answer in Binance's shapes, documented (with
# examples) by Binance; Sparky's own admin API of the paper exchange is held to the rule.
BINANCE_ROUTES = ("/api/v3/", "/fapi/")


def _operations(found: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, operations in found["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {path}", operation


def _schema(found: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = found["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _examples(found: dict[str, Any], media: dict[str, Any]) -> list[Any]:
    """Every example of a body: the media type's own, or its schema's (or its items')."""
    examples = [entry["value"] for entry in media.get("examples", {}).values()]
    examples += [media["example"]] if "example" in media else []
    schema = _schema(found, media.get("schema", {}))
    examples += schema.get("examples", [])
    if not examples and schema.get("type") == "array":
        examples += [[item] for item in _schema(found, schema["items"]).get("examples", [])]
    return examples


def _bodies(operation: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The request body and the main answer (the first 2xx with a body), per media type."""
    for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
        yield f"request {media_type}", media
    answers = operation["responses"]
    success = [status for status in sorted(answers) if status.startswith("2")]
    for status in success[:1]:
        for media_type, media in answers[status].get("content", {}).items():
            yield f"{status} {media_type}", media


def test_every_request_and_main_answer_has_an_example(rendered: tuple[str, dict[str, Any]]) -> None:
    service, found = rendered
    missing = [
        f"{name}: {body}"
        for name, operation in _operations(found)
        if not name.split(" ", 1)[1].startswith(BINANCE_ROUTES)
        for body, media in _bodies(operation)
        if not _examples(found, media)
    ]
    assert not missing, f"{service}: no example for\n" + "\n".join(missing)


def test_every_example_is_valid_by_its_schema(rendered: tuple[str, dict[str, Any]]) -> None:
    service, found = rendered
    wrong = []
    for name, operation in _operations(found):
        for answer in operation["responses"].values():
            for media_type, media in answer.get("content", {}).items():
                wrong += _invalid(found, f"{name} {media_type}", media)
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
            wrong += _invalid(found, f"{name} request {media_type}", media)
    assert not wrong, f"{service}:\n" + "\n".join(wrong)


def _invalid(found: dict[str, Any], where: str, media: dict[str, Any]) -> list[str]:
    schema = media.get("schema", {})
    validator = Draft202012Validator({**schema, "components": found["components"]})
    return [
        f"{where}: {error.message}"
        for example in _examples(found, media)
        for error in validator.iter_errors(_with_nulls(found, schema, example))
    ]


def _with_nulls(found: dict[str, Any], schema: dict[str, Any], value: Any) -> Any:
    """Put back the nulls of an example: FastAPI writes its document without null values
    (``exclude_none``), examples included, so a required field that may be null is missing.
    """
    schema = _schema(found, schema)
    options = [_schema(found, option) for option in schema.get("anyOf", [])] or [schema]
    for option in options:
        if isinstance(value, dict) and "properties" in option:
            filled = {
                name: _with_nulls(found, option["properties"][name], field)
                if name in option["properties"]
                else field
                for name, field in value.items()
            }
            for name in option.get("required", []):
                if name not in filled and _nullable(found, option["properties"][name]):
                    filled[name] = None
            return filled
        if isinstance(value, list) and "items" in option:
            return [_with_nulls(found, option["items"], item) for item in value]
    return value


def _nullable(found: dict[str, Any], schema: dict[str, Any]) -> bool:
    options = [_schema(found, option) for option in schema.get("anyOf", [])] or [schema]
    return any(option.get("type") == "null" for option in options)


def test_the_webhook_documents_every_answer_with_an_example() -> None:
    found = document("ingress")
    operation = found["paths"]["/webhooks/tv/{token}"]["post"]
    answers = operation["responses"]
    for status in ("202", "200", "400", "401", "403", "413", "429", "503"):
        assert status in answers, status
        assert _examples(found, answers[status]["content"]["application/json"]), status
    for status in ("429", "503"):
        assert "Retry-After" in answers[status]["headers"], status
    for media_type in ("application/json", "text/plain"):
        assert _examples(found, operation["requestBody"]["content"][media_type]), media_type

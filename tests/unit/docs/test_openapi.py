"""The OpenAPI documents under docs/api/ are what the apps serve, and show how to call them."""

from __future__ import annotations

from typing import Any

import pytest

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

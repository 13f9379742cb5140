"""docs/architecture.md's tables are rendered from `libs.common`: they cannot drift."""

from __future__ import annotations

import pytest

from libs.common.db_roles import SERVICE_ROLES, deployment_roles
from libs.common.topology import Topology
from scripts.render_architecture import OUTPUT, ROLE_USES, SECTIONS, render


def test_committed_tables_equal_a_fresh_render() -> None:
    text = OUTPUT.read_text()
    assert render(text) == text, (
        "docs/architecture.md's generated tables are out of date: run "
        "`python -m scripts.render_architecture`"
    )


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_a_page_without_a_section_is_refused(section: str) -> None:
    text = OUTPUT.read_text().replace(f"<!-- generated:{section} -->", "")
    with pytest.raises(ValueError, match=section):
        render(text)


def test_a_hand_edit_inside_a_section_is_rendered_away() -> None:
    text = OUTPUT.read_text()
    edited = text.replace("| `sparky_INTENTS` |", "| `sparky_INTENT` |", 1)
    assert edited != text
    assert render(edited) == text


def test_every_stream_consumer_bucket_and_role_is_in_the_page() -> None:
    text = OUTPUT.read_text()
    t = Topology()
    names = [s.name for s in t.streams()]
    names += [d.durable for d in t.durables()]
    names += [*t.buckets(), t.router_settings_bucket]
    names += deployment_roles("sparky")
    for name in names:
        assert f"| `{name}` |" in text, name


def test_every_bucket_has_a_description() -> None:
    t = Topology()
    described = {b.name for b in t.bucket_specs()}
    assert described == {*t.buckets(), t.router_settings_bucket}


def test_every_role_says_what_it_is_for() -> None:
    roles = {(service, kind) for service, kinds in SERVICE_ROLES.items() for kind in kinds}
    assert set(ROLE_USES) == roles

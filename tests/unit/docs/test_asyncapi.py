"""docs/asyncapi.yaml is what `libs.common` says: rendered fresh, complete, valid AsyncAPI 3."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from libs.common import messages
from libs.common.messages import Message
from libs.common.nats_access import table
from libs.common.topology import PARTITION_PLACEHOLDER, Topology
from scripts.render_asyncapi import OUTPUT, ROOT, check, render, subject_matches

VALIDATOR = ROOT / "scripts" / "validate_asyncapi.mjs"
PARSER = ROOT / ".tools" / "asyncapi" / "node_modules" / "@asyncapi" / "parser"


def committed() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(OUTPUT.read_text())
    return doc


def message_models() -> set[str]:
    """Every message model `libs.common.messages` exports."""
    exported = (getattr(messages, name) for name in messages.__all__)
    return {
        m.__name__
        for m in exported
        if isinstance(m, type) and issubclass(m, Message) and m is not Message
    }


def test_committed_document_equals_a_fresh_render() -> None:
    assert OUTPUT.read_text() == render(), (
        "docs/asyncapi.yaml is out of date: run `python -m scripts.render_asyncapi`"
    )


def test_every_message_model_is_a_message_with_its_payload_schema() -> None:
    doc = committed()
    documented = set(doc["components"]["messages"]) - {"DeadLetter"}
    assert documented == message_models()
    for name in documented:
        message = doc["components"]["messages"][name]
        assert message["payload"] == {"$ref": f"#/components/schemas/{name}"}
        assert doc["components"]["schemas"][name]["additionalProperties"] is False


def test_every_event_kind_is_a_value_of_the_events_channel() -> None:
    kinds = {str(m.model_fields["kind"].default) for m in messages.EVENT_TYPES}
    parameter = committed()["channels"]["events"]["parameters"]["kind"]
    assert set(parameter["enum"]) == kinds


def test_every_stream_is_a_channel_whose_address_it_stores() -> None:
    t = Topology()
    channels = committed()["channels"]
    by_stream = {c["title"]: c for c in channels.values()}
    assert set(by_stream) == {s.name for s in t.streams()}
    for spec in t.streams():
        channel = by_stream[spec.name]
        sample = re.sub(r"\{\w+\}", "x", channel["address"])
        assert any(subject_matches(s, sample) for s in spec.subjects), channel["address"]
        assert "duplicate window" in channel["description"]


def test_every_durable_consumer_is_a_receive_operation() -> None:
    doc = committed()
    for durable in Topology().durables():
        key = f"receive.{durable.durable.replace(PARTITION_PLACEHOLDER, 'N')}"
        operation = doc["operations"][key]
        assert operation["action"] == "receive"
        channel = operation["channel"]["$ref"].removeprefix("#/channels/")
        assert doc["channels"][channel]["title"] == durable.stream
        assert f"`{durable.filter_subject}`" in operation["description"]


def test_every_service_that_may_publish_sends_in_the_document() -> None:
    senders = {
        key.split(".")[1] for key, op in committed()["operations"].items() if op["action"] == "send"
    }
    may_publish = {s for s, access in table(Topology()).items() if access.publish}
    assert may_publish <= senders


def test_the_notifier_sends_nothing_but_dead_letters() -> None:
    sends = [k for k in committed()["operations"] if k.startswith("send.notifier.")]
    assert sends == ["send.notifier.deadletter"]


def test_partitioned_consumers_are_named_and_filtered_as_the_services_do() -> None:
    t = Topology(partitions=4)
    filters = {t.intents_stream: t.intents_filter, t.orders_stream: t.orders_filter}
    for durable in (d for d in t.durables() if d.partitioned):
        for p in range(t.partitions):
            name = durable.durable.replace(PARTITION_PLACEHOLDER, str(p))
            assert name == t.consumer_name(durable.service, p)
            assert durable.filter_subject.replace(PARTITION_PLACEHOLDER, str(p)) == filters[
                durable.stream
            ](p)


@pytest.mark.parametrize(
    ("pattern", "subject", "matches"),
    [
        ("a.events.>", "a.events.t.order.filled", True),
        ("a.events.*.order.>", "a.events.t.order.filled", True),
        ("a.events.*.order.filled", "a.events.t.order.filled", True),
        ("a.events.*.order.filled", "a.events.t.order.failed", False),
        ("a.events.*", "a.events.t.order.filled", False),
        ("a.events.>", "a.events", False),
        ("a.intents.0.*", "a.intents.0.t", True),
        ("a.intents.0.*", "a.intents.1.t", False),
    ],
)
def test_subject_matching_follows_nats_wildcards(
    pattern: str, subject: str, *, matches: bool
) -> None:
    assert subject_matches(pattern, subject) is matches


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None or not PARSER.exists():
        message = "node or .tools/asyncapi missing: run `bash scripts/install_tools.sh asyncapi`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return subprocess.run(
        [node, str(VALIDATOR), str(path)], capture_output=True, text=True, timeout=120, check=False
    )


def test_the_asyncapi_parser_accepts_the_document() -> None:
    result = _validate(OUTPUT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_asyncapi_parser_refuses_an_operation_on_a_message_of_another_channel(
    tmp_path: Path,
) -> None:
    broken = OUTPUT.read_text().replace(
        "#/channels/orders/messages/PlaceOrder", "#/channels/events/messages/OrderFilled"
    )
    path = tmp_path / "asyncapi.yaml"
    path.write_text(broken)
    result = _validate(path)
    assert result.returncode == 1
    assert "does not belong to the specified channel" in result.stdout


def test_check_prints_the_difference_and_the_command_that_fixes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "asyncapi.yaml"
    path.write_text("asyncapi: 3.0.0\ninfo: old\n")
    assert check("asyncapi: 3.0.0\ninfo: new\n", path, "python -m scripts.render_asyncapi") == 1
    out, err = capsys.readouterr()
    assert "-info: old\n+info: new\n" in out
    assert "run `python -m scripts.render_asyncapi`" in err
    path.write_text("asyncapi: 3.0.0\ninfo: new\n")
    assert check("asyncapi: 3.0.0\ninfo: new\n", path, "python -m scripts.render_asyncapi") == 0

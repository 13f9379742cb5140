"""Render docs/asyncapi.yaml, the AsyncAPI 3.0 document of Sparky's JetStream contracts.

Everything in it comes from `libs.common`: the streams and durable consumers from
`libs.common.topology`, who may publish what from `libs.common.nats_access` (the table the NATS
server enforces), the payloads from the message models' JSON schemas (pydantic, serialisation
mode: what travels, decimals as strings), the headers from `libs.common.publishing`,
`libs.common.signing` and `libs.common.consumer`.

Channels are the streams' subjects, templated by tenant, partition, event kind or stream;
an operation is a service sending to a channel (`send.<service>.<channel>`) or a durable
consumer receiving from it (`receive.<durable>`), with the messages it handles.

``python -m scripts.render_asyncapi`` writes the file; ``--check`` exits 1 with a diff when the
committed file differs from a fresh render (the unit tests do the same).
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from libs.common.jetstream import stream_config
from libs.common.messages import EVENT_TYPES, CancelOrders, OrderIntent, PlaceOrder
from libs.common.nats_access import table
from libs.common.publishing import EXPECTED_STREAM, KEY_HEADER, MSG_ID_HEADER
from libs.common.signing import MAY_SIGN, SIGNATURE_HEADER, Issuer
from libs.common.topology import PARTITION_PLACEHOLDER, DurableSpec, StreamSpec, Topology

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "asyncapi.yaml"
SCHEMAS = "#/components/schemas/"
TOPOLOGY = Topology()
ORDER_COMMANDS: dict[str, tuple[type[BaseModel], ...]] = {
    issuer: tuple(m for m in (PlaceOrder, CancelOrders) if m.model_fields["kind"].default in kinds)
    for issuer, kinds in MAY_SIGN.items()
}
"""Which commands each issuer signs on ORDERS (`libs.common.signing.MAY_SIGN`, which the
executor enforces)."""
SAMPLE = {"tenant": "t1", "partition": "0", "stream": "intents"}
"""Values put in a channel's parameters to match its subject against publish rights."""


@dataclass(frozen=True)
class Channel:
    """One templated subject of one stream and the messages it carries."""

    key: str
    address: str
    stream: StreamSpec
    messages: dict[str, type[BaseModel] | None]
    """Message name → model (None: not a model of ours, the dead-letter copy)."""
    parameters: dict[str, dict[str, Any]]


def channels(t: Topology) -> list[Channel]:
    """Return the channels of deployment ``t``, one per stream."""
    ns = t.namespace
    intents, orders, events, deadletter = t.streams()
    tenant = {
        "description": "The tenant id (`[0-9A-Za-z_-]{1,64}`).",
        "examples": ["01HZX3TENANT"],
    }
    partition = {
        "description": (
            f"`partition(tenant)`: BLAKE2b-64 of the tenant id modulo the deployment's "
            f"partition count (default {t.partitions}), 0-based."
        ),
        "examples": ["3"],
    }
    kinds = sorted(str(m.model_fields["kind"].default) for m in EVENT_TYPES)
    stream_names = sorted(s.name.removeprefix(f"{ns}_").lower() for s in t.streams()[:3])
    return [
        Channel(
            "intents",
            f"{ns}.intents.{{partition}}.{{tenant}}",
            intents,
            {"OrderIntent": OrderIntent},
            {"partition": partition, "tenant": tenant},
        ),
        Channel(
            "orders",
            f"{ns}.orders.{{partition}}.{{tenant}}",
            orders,
            {m.__name__: m for m in (PlaceOrder, CancelOrders)},
            {"partition": partition, "tenant": tenant},
        ),
        Channel(
            "events",
            f"{ns}.events.{{tenant}}.{{kind}}",
            events,
            {m.__name__: m for m in EVENT_TYPES},
            {
                "tenant": tenant,
                "kind": {"description": "The event's `kind` (two tokens).", "enum": kinds},
            },
        ),
        Channel(
            "deadletter",
            f"{ns}.dlq.{{stream}}",
            deadletter,
            {"DeadLetter": None},
            {
                "stream": {
                    "description": "The base name of the stream the message came from.",
                    "enum": stream_names,
                }
            },
        ),
    ]


def subject_matches(pattern: str, subject: str) -> bool:
    """Tell whether NATS subject ``subject`` matches ``pattern`` (``*`` a token, ``>`` the
    rest)."""
    want, got = pattern.split("."), subject.split(".")
    for i, part in enumerate(want):
        if part == ">":
            return len(got) > i
        if i >= len(got) or part not in ("*", got[i]):
            return False
    return len(want) == len(got)


def subjects_of(channel: Channel) -> dict[str, str]:
    """Return a concrete subject for each message of ``channel``, by message name."""
    fill = dict(SAMPLE)
    subjects = {}
    for name, model in channel.messages.items():
        if model is not None and "kind" in model.model_fields and channel.key == "events":
            fill["kind"] = str(model.model_fields["kind"].default)
        subjects[name] = re.sub(r"\{(\w+)\}", lambda m: fill[m.group(1)], channel.address)
    return subjects


def duration(s: float) -> str:
    """Say ``s`` seconds as a reader would (0: forever)."""
    if s == 0:
        return "forever"
    if s % 86_400 == 0:
        return f"{int(s // 86_400)} days"
    if s % 60 == 0 and s >= 120:
        return f"{int(s // 60)} min"
    return f"{s:g} s"


def stream_description(spec: StreamSpec, t: Topology) -> str:
    """Describe a stream as the topology configures it."""
    config = stream_config(spec, t.replicas)
    retention = config.retention.value if config.retention else "limits"
    storage = config.storage.value if config.storage else "file"
    discard = config.discard.value if config.discard else "old"
    return (
        f"Stream `{spec.name}` ({', '.join(f'`{s}`' for s in spec.subjects)}): "
        f"{spec.description}. Retention `{retention}`, storage `{storage}`, discard `{discard}`; "
        f"kept {duration(spec.max_age_s)}, duplicate window "
        f"{duration(spec.duplicate_window_s)} (by `{MSG_ID_HEADER}`)."
    )


def _headers_schemas() -> dict[str, Any]:
    def header(description: str) -> dict[str, str]:
        return {"type": "string", "description": description}

    published = {
        MSG_ID_HEADER: header(
            "The dedup id: the message id, or an intent's dedup key (JetStream drops a "
            "duplicate within the stream's window)."
        ),
        EXPECTED_STREAM: header("The stream that must store it; any other refuses it."),
        "content-type": header("`application/json`."),
        "correlation_id": header("The intent id, through the whole chain."),
        KEY_HEADER: header(
            "The ordering key within the tenant (a market; an account and market), when the "
            "message has one: messages of one key are handled one after another."
        ),
        "traceparent": header("The W3C trace context of the publisher."),
    }
    required = [MSG_ID_HEADER, EXPECTED_STREAM, "content-type", "correlation_id"]
    signed = {
        SIGNATURE_HEADER: header(
            "`<issuer>:<hex>`: the issuer's HMAC-SHA256 over the subject and the exact bytes; "
            "checked by the executor before it parses the message."
        )
    }
    dead = {
        MSG_ID_HEADER: header("`<stream>:<sequence>` of the original: one copy per message."),
        "Sparky-Original-Subject": header("Where the message was published."),
        "Sparky-Stream-Sequence": header("Its sequence in the original stream."),
        "Sparky-Consumer": header("The durable consumer that set it aside."),
        "Sparky-Outcome": header("Why it was set aside."),
        "Sparky-Error": header("The error, redacted and capped at 500 characters."),
        SIGNATURE_HEADER: header(
            "A command keeps its signature, so a replay to its subject is carried out."
        ),
    }
    return {
        "Headers": {"type": "object", "properties": published, "required": required},
        "SignedHeaders": {
            "type": "object",
            "properties": {**published, **signed},
            "required": [*required, SIGNATURE_HEADER],
        },
        "DeadLetterHeaders": {
            "type": "object",
            "properties": dead,
            "required": [k for k in dead if k != SIGNATURE_HEADER],
        },
    }


def summary(model: type[BaseModel]) -> str:
    """Return the first paragraph of ``model``'s docstring on one line, in Markdown."""
    paragraph = (model.__doc__ or model.__name__).strip().split("\n\n")[0]
    return " ".join(paragraph.split()).replace("``", "`")


def _message(name: str, model: type[BaseModel] | None, channel: Channel) -> dict[str, Any]:
    subject = channel.address
    if model is None:
        return {
            "name": name,
            "title": name,
            "summary": "A message set aside after it failed, unchanged, for an operator.",
            "description": (
                f"On `{subject}`. The payload is the original message's bytes as they were "
                "(perhaps unreadable); the headers say where it came from and why."
            ),
            "contentType": "application/octet-stream",
            "headers": {"$ref": SCHEMAS + "DeadLetterHeaders"},
            "payload": {"description": "The original message's bytes."},
        }
    if channel.key == "events":
        subject = subject.replace("{kind}", str(model.model_fields["kind"].default))
    headers = "SignedHeaders" if channel.key == "orders" else "Headers"
    return {
        "name": name,
        "title": name,
        "summary": summary(model),
        "description": f"On `{subject}`.",
        "contentType": "application/json",
        "headers": {"$ref": SCHEMAS + headers},
        "payload": {"$ref": SCHEMAS + name},
    }


def senders(channel: Channel, t: Topology) -> dict[str, list[str]]:
    """Return, by service, the messages of ``channel`` it may publish (`nats_access`)."""
    subjects = subjects_of(channel)
    found: dict[str, list[str]] = {}
    for service, access in table(t).items():
        patterns = access.publish
        if channel.key == "deadletter" and access.consume:
            patterns = (f"{t.namespace}.dlq.>",)
        names = [n for n, s in subjects.items() if any(subject_matches(p, s) for p in patterns)]
        if channel.key == "orders" and names:
            names = [m.__name__ for m in ORDER_COMMANDS[Issuer(service)]]
        if names:
            found[service] = names
    return found


def receivers(channel: Channel, t: Topology) -> list[tuple[DurableSpec, list[str]]]:
    """Return the durable consumers that read ``channel``, each with the messages it gets."""
    subjects = subjects_of(channel)
    found = []
    for durable in t.durables():
        if durable.stream != channel.stream.name:
            continue
        pattern = durable.filter_subject.replace(PARTITION_PLACEHOLDER, SAMPLE["partition"])
        names = [n for n, s in subjects.items() if subject_matches(pattern, s)]
        if names:
            found.append((durable, names))
    return found


def _ref_list(channel: Channel, names: list[str]) -> list[dict[str, str]]:
    return [{"$ref": f"#/channels/{channel.key}/messages/{n}"} for n in sorted(names)]


def operations(t: Topology) -> dict[str, Any]:
    """Return every send (by service) and receive (by durable consumer) operation."""
    ops: dict[str, Any] = {}
    for channel in channels(t):
        ref = {"$ref": f"#/channels/{channel.key}"}
        for service, names in senders(channel, t).items():
            ops[f"send.{service}.{channel.key}"] = {
                "action": "send",
                "channel": ref,
                "title": f"{service} publishes on {channel.stream.name}",
                "messages": _ref_list(channel, names),
            }
        for durable, names in receivers(channel, t):
            key = durable.durable.replace(PARTITION_PLACEHOLDER, "N")
            ops[f"receive.{key}"] = {
                "action": "receive",
                "channel": ref,
                "title": f"{durable.service} reads {channel.stream.name} as `{durable.durable}`",
                "description": (
                    f"{durable.description}. Durable consumer `{durable.durable}`, filter "
                    f"`{durable.filter_subject}`."
                ),
                "messages": _ref_list(channel, names),
            }
    return ops


def payload_schemas(t: Topology) -> dict[str, Any]:
    """Return the JSON schemas of every message model and what they use, by name."""
    wire: JsonSchemaMode = "serialization"  # what travels: decimals as strings
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (m, wire) for c in channels(t) for m in c.messages.values() if m is not None
    ]
    _, defs = models_json_schema(models, ref_template=SCHEMAS + "{model}")
    schemas: dict[str, Any] = defs["$defs"]
    return schemas


def document(t: Topology = TOPOLOGY) -> dict[str, Any]:
    """Return the AsyncAPI document of deployment ``t`` as data."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    all_channels = channels(t)
    messages = {
        name: _message(name, model, c) for c in all_channels for name, model in c.messages.items()
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Sparky's JetStream contracts",
            "version": project["version"],
            "description": (
                "Every stream, subject, durable consumer and message of Sparky, generated "
                "from `libs/common` by `python -m scripts.render_asyncapi` (do not edit). "
                f"Names are shown for the namespace `{t.namespace}`; each deployment sets its "
                "own. Each service connects as its own NATS user and the server refuses any "
                "publish or consumer outside `libs/common/nats_access.py`'s table: the send "
                "operations are that table; the receive operations are the durable consumers "
                "the services create (`Topology.durables`)."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "nats": {
                "host": "localhost:4222",
                "protocol": "nats",
                "description": "NATS with JetStream (`SPARKY_NATS_URL`).",
            }
        },
        "channels": {
            c.key: {
                "address": c.address,
                "title": c.stream.name,
                "description": stream_description(c.stream, t),
                "parameters": c.parameters,
                "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in c.messages},
            }
            for c in all_channels
        },
        "operations": operations(t),
        "components": {
            "messages": messages,
            "schemas": {**payload_schemas(t), **_headers_schemas()},
        },
    }


class _Dumper(yaml.SafeDumper):
    """Writes a repeated value out each time: no YAML anchors and aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render() -> str:
    """Return docs/asyncapi.yaml's text: deterministic, keys sorted."""
    text = yaml.dump(document(), Dumper=_Dumper, sort_keys=True, allow_unicode=True, width=100)
    return "# Generated by `python -m scripts.render_asyncapi`: do not edit.\n" + text


def check(rendered: str, path: Path, command: str) -> int:
    """Compare ``path`` with ``rendered``: 0 when equal, else print a diff and return 1."""
    current = path.read_text() if path.exists() else ""
    if current == rendered:
        return 0
    name = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
    diff = difflib.unified_diff(
        current.splitlines(keepends=True),
        rendered.splitlines(keepends=True),
        f"{name} (committed)",
        f"{name} (rendered)",
    )
    sys.stdout.writelines(diff)
    sys.stderr.write(f"{name} is out of date: run `{command}`\n")
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 with a diff on drift")
    args = parser.parse_args(argv)
    rendered = render()
    if args.check:
        return check(rendered, OUTPUT, "python -m scripts.render_asyncapi")
    OUTPUT.write_text(rendered)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Render docs/architecture.md's tables of streams, subjects, consumers, buckets and roles.

Each table sits between ``<!-- generated:<name> -->`` and ``<!-- /generated:<name> -->`` and is
rendered from the same sources as docs/asyncapi.yaml (`scripts.render_asyncapi`): the topology,
the NATS access table and the message models, and, for the Postgres roles, `libs.common.db_roles`.
The prose around the markers is the authors'.

``python -m scripts.render_architecture`` rewrites the tables in place; ``--check`` exits 1 with
a diff when the committed page differs from a fresh render (the unit tests do the same).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Iterable, Mapping

from libs.common.db_roles import DEFAULT_NAMESPACE, SERVICE_ROLES, role_name, role_prefix
from libs.common.nats_access import table
from libs.common.topology import Topology
from scripts.render_asyncapi import (
    ROOT,
    TOPOLOGY,
    channels,
    check,
    duration,
    receivers,
    senders,
    subjects_of,
    summary,
)

OUTPUT = ROOT / "docs" / "architecture.md"
COMMAND = "python -m scripts.render_architecture"
ROLE_USES: Mapping[tuple[str, str], str] = {
    ("router", "reader"): "settings reads, per transaction, one tenant (`sparky.tenant_id`)",
    ("router", "writer"): "settings changes and their outbox, per transaction",
    ("executor", "api"): "the exchange-accounts API, per transaction, one tenant",
    ("executor", "writer"): "the order path and tenant purges: every connection, from the "
    "start (`connect_as`: `SET ROLE` when it opens)",
    ("ledger", "reader"): "the read API, per transaction, one tenant",
    ("ledger", "writer"): "the projector, per transaction",
    ("billing", "writer"): "everything billing does: every connection, from the start "
    "(`connect_as`)",
    ("web", "writer"): "per transaction, one user (`sparky.web_user_id`)",
    ("notifier", "api"): "the tenant API, per transaction, one tenant",
    ("notifier", "writer"): "the consumer, the sender and the bot, per transaction, every "
    "tenant by policy",
}
"""What each role of `libs.common.db_roles.SERVICE_ROLES` is for (a test holds the keys equal)."""


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _code(*names: str) -> str:
    return ", ".join(f"`{n}`" for n in names)


NOBODY = "\N{EN DASH}"


def _list(names: Iterable[str]) -> str:
    return ", ".join(names) or NOBODY


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s+(?=[A-Z`])", text, maxsplit=1)[0]


def _shown(address: str) -> str:
    """The docs write a subject's placeholders as ``<tenant>``, AsyncAPI as ``{tenant}``."""
    return re.sub(r"\{(\w+)\}", r"<\1>", address).replace("<partition>", "<p>")


def streams(t: Topology) -> str:
    """Return the table of streams: subjects, messages, retention."""
    rows = [
        (
            f"`{c.stream.name}`",
            f"`{_shown(c.address)}`",
            _code(*c.messages) if len(c.messages) < 4 else f"{len(c.messages)} events (below)",
            duration(c.stream.max_age_s),
            duration(c.stream.duplicate_window_s),
            c.stream.description,
        )
        for c in channels(t)
    ]
    header = ("stream", "subjects", "messages", "kept", "duplicate window", "holds")
    return _table(header, rows)


def subjects(t: Topology) -> str:
    """Return the table of subjects: each message, who publishes and who reads it."""
    rows = []
    for c in channels(t):
        sent = senders(c, t)
        read = receivers(c, t)
        for name, subject in subjects_of(c).items():
            model = c.messages[name]
            what = _first_sentence(summary(model)) if model is not None else "a message set aside"
            shown = _shown(c.address)
            if c.key == "events":
                shown = shown.replace("<kind>", subject.split(".", 3)[3])
            publishers = [s for s, names in sent.items() if name in names]
            readers = [d.durable for d, names in read if name in names]
            row = (f"`{shown}`", f"`{name}`", what, _list(publishers), _code(*readers) or NOBODY)
            rows.append(row)
    header = ("subject", "message", "what", "published by", "read by (durable)")
    return _table(header, rows)


def consumers(t: Topology) -> str:
    """Return the table of durable consumers."""
    rows = [
        (f"`{d.durable}`", d.service, f"`{d.stream}`", f"`{d.filter_subject}`", d.description)
        for d in t.durables()
    ]
    return _table(("durable consumer", "process", "stream", "filter", "what for"), rows)


def buckets(t: Topology) -> str:
    """Return the table of KV buckets: keys, values, writers and readers."""
    access = table(t)
    rows = []
    for b in t.bucket_specs():
        writers = [s for s, a in access.items() if b.name in a.write]
        readers = [s for s, a in access.items() if b.name in a.read]
        rows.append((f"`{b.name}`", b.keys, b.description, _list(writers), _list(readers)))
    return _table(("bucket", "key", "value", "written by", "read (watched) by"), rows)


def roles(_t: Topology) -> str:
    """Return the table of Postgres roles, named with the default prefix."""
    prefix = role_prefix(DEFAULT_NAMESPACE)
    rows = [
        (
            f"`{role_name(prefix, service, kind)}`",
            service,
            f"`SPARKY_{service.upper()}_{kind.upper()}_ROLE`",
            ROLE_USES[(service, kind)],
        )
        for service, kinds in SERVICE_ROLES.items()
        for kind in kinds
    ]
    return _table(("role", "service", "setting", "used for"), rows)


SECTIONS: Mapping[str, Callable[[Topology], str]] = {
    "streams": streams,
    "subjects": subjects,
    "consumers": consumers,
    "buckets": buckets,
    "roles": roles,
}


def render(text: str, t: Topology = TOPOLOGY) -> str:
    """Return ``text`` (architecture.md) with every generated section rendered afresh.

    Raises `ValueError` when a section's markers are missing or repeated.
    """
    for name, section in SECTIONS.items():
        pattern = re.compile(
            rf"(<!-- generated:{name} -->\n).*?(<!-- /generated:{name} -->)", re.DOTALL
        )
        matches = list(pattern.finditer(text))
        if len(matches) != 1:
            raise ValueError(f"{len(matches)} <!-- generated:{name} --> sections, expected one")
        m = matches[0]
        # Blank lines around the table: Markdown ends the comment's HTML block before it.
        body = f"{m.group(1)}\n{section(t)}\n\n{m.group(2)}"
        text = text[: m.start()] + body + text[m.end() :]
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 with a diff on drift")
    args = parser.parse_args(argv)
    rendered = render(OUTPUT.read_text())
    if args.check:
        return check(rendered, OUTPUT, COMMAND)
    OUTPUT.write_text(rendered)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

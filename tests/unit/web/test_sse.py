"""Server-sent events as the alerts page reads the ledger's stream and writes its own."""

from __future__ import annotations

from services.web.sse import EventReader, ServerEvent, frame


def _read(text: str) -> list[ServerEvent]:
    reader = EventReader()
    events = [reader.feed(line) for line in text.split("\n")]
    return [e for e in events if e is not None]


def test_events_are_assembled_and_comments_skipped() -> None:
    stream = ': keepalive\n\nid: 7\nevent: alert\ndata: {"a":\ndata: 1}\n\nid: 8\ndata: x\n\n'
    assert _read(stream) == [
        ServerEvent("alert", '{"a":\n1}', "7"),
        ServerEvent("message", "x", "8"),
    ]


def test_a_blank_line_without_data_dispatches_nothing() -> None:
    assert _read("event: alert\n\n\n") == []


def test_frames_put_every_line_of_data_in_its_own_field_and_read_back() -> None:
    written = frame("alert", "<tr>\n<td>1</td></tr>", "42")
    assert written == "id: 42\nevent: alert\ndata: <tr>\ndata: <td>1</td></tr>\n\n"
    assert _read(written) == [ServerEvent("alert", "<tr>\n<td>1</td></tr>", "42")]

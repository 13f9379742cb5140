"""Server-sent events, read and written: the ledger's alert stream in, rendered rows out.

Pure line handling (`EventReader`, `frame`); the HTTP around it is in the alerts page.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ServerEvent:
    """One event: its type, data and id ('' when the stream gave none)."""

    event: str
    data: str
    id: str = ""


@dataclass
class EventReader:
    """Assembles events from a stream's lines, as the SSE specification reads them."""

    _event: str = ""
    _data: list[str] = field(default_factory=list)
    _id: str = ""

    def feed(self, line: str) -> ServerEvent | None:
        """Take one line (without its end); return the event a blank line completes."""
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\x00" not in value:
            self._id = value
        return None

    def _dispatch(self) -> ServerEvent | None:
        if not self._data:
            self._event = ""
            return None
        event = ServerEvent(self._event or "message", "\n".join(self._data), self._id)
        self._event, self._data = "", []
        return event


def frame(event: str, data: str, event_id: str = "") -> str:
    """Write one event; every line of ``data`` gets its own ``data:`` field."""
    lines = [f"id: {event_id}"] if event_id else []
    lines.append(f"event: {event}")
    lines += [f"data: {line}" for line in data.splitlines() or [""]]
    return "\n".join(lines) + "\n\n"


KEEPALIVE = ": keepalive\n\n"

"""Slow and oversized requests refused by the HTTP server itself, before any app code waits.

uvicorn reads a request for as long as the client takes: a client that announces a body and
sends it a byte at a time keeps its connection (and whatever the app holds for it) forever, and
one that sends headers slowly, or never sends a request at all, keeps a connection open. This
protocol (uvicorn's httptools protocol with deadlines) bounds every phase of a request:

- **headers**: the request line and headers must be complete within ``header_timeout_s`` of the
  connection opening or of the request's first byte, and hold at most ``max_header_bytes``
  (431 beyond; counted as received, so a request may overshoot by one read of the socket);
- **body**: after ``body_grace_s`` the body must keep arriving at ``min_body_rate`` bytes per
  second on average, and be complete within ``body_timeout_s`` (408 otherwise, or a plain close
  when the answer was already given); ``Content-Length`` above ``max_body_bytes`` is refused
  (413) before the app is called, a chunked body as soon as it grows past it.

A refusal is written in the APIs' error shape with ``Connection: close``. While the app itself
does not read (uvicorn pauses reading once 64 KiB wait), the client is not blamed. The common
case, a request whose headers and body arrive together, arms no timer at all.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from enum import Enum
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """How long and how large a request may be (see the module's docstring)."""

    header_timeout_s: float = 10.0
    body_grace_s: float = 5.0
    min_body_rate: float = 500.0
    body_timeout_s: float = 30.0
    max_body_bytes: int = 1_048_576
    max_header_bytes: int = 32_768


class _Phase(Enum):
    IDLE = 0  # between requests (uvicorn's keep-alive timeout applies)
    HEADERS = 1
    BODY = 2


_TOO_LARGE = "The request body is larger than this API accepts ({limit} bytes)."
_HEADERS_TOO_LARGE = "The request's headers are larger than this API accepts."
_TOO_SLOW = "The request was not received in time; send it again at once."
_PAUSED_RECHECK_S = 1.0
_MIN_RECHECK_S = 0.1


class _RefusedError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_bytes(status: int, message: str) -> bytes:
    """Return a whole HTTP/1.1 answer in the error shape that closes the connection."""
    body = json.dumps({"error": message, "errors": []}).encode()
    return b"".join(
        (
            STATUS_LINE[status],
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
            body,
        )
    )


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the deadlines and size limits of `ReadLimits`."""

    limits = ReadLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._phase = _Phase.HEADERS
        self._started = 0.0
        self._bytes = 0  # of the headers (as received), then of the body
        self._began = False  # whether the request in the header phase has begun
        self._deadline: asyncio.TimerHandle | None = None

    @classmethod
    def with_limits(cls, limits: ReadLimits) -> type[GuardedHttpToolsProtocol]:
        """Return the protocol class uvicorn should use for ``limits``."""
        return type(cls.__name__, (cls,), {"limits": limits})

    # Connection
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._begin(_Phase.HEADERS)
        self._arm()  # a connection that never sends a byte is closed too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        if self._phase is _Phase.HEADERS:
            self._bytes += len(data)  # counted here, not per header: no call per header line
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if not isinstance(exc.__context__, _RefusedError):
                raise
            self._refuse(exc.__context__.status, exc.__context__.message)
            return
        except httptools.HttpParserUpgrade:  # as uvicorn does; none of our services upgrades
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError as exc:
            self.refuse_unreadable(exc)
            return
        if self._phase is _Phase.HEADERS and self._bytes > self.limits.max_header_bytes:
            self._refuse(431, _HEADERS_TOO_LARGE)
        elif self._phase is not _Phase.IDLE and self._deadline is None:
            self._arm()

    def refuse_unreadable(self, exc: httptools.HttpParserError) -> None:
        """Answer a request the parser cannot read (a control character in a header, a raw
        non-ASCII byte in the URL); a service whose clients expect another shape overrides it."""
        self.logger.warning("Invalid HTTP request received.")
        self.send_400_response("Invalid HTTP request received.")

    # Parser callbacks
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._began = True
        if self._phase is _Phase.IDLE:
            self._begin(_Phase.HEADERS)

    def on_headers_complete(self) -> None:
        declared = _content_length(self.headers)
        if declared is not None and declared > self.limits.max_body_bytes:
            raise _RefusedError(413, _TOO_LARGE.format(limit=self.limits.max_body_bytes))
        self._disarm()
        self._begin(_Phase.BODY)
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._bytes += len(body)
        if self._bytes > self.limits.max_body_bytes:
            raise _RefusedError(413, _TOO_LARGE.format(limit=self.limits.max_body_bytes))
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._disarm()
        self._phase = _Phase.IDLE
        self._began = False
        super().on_message_complete()

    # Deadlines
    def _begin(self, phase: _Phase) -> None:
        self._phase = phase
        self._started = self.loop.time()
        self._bytes = 0

    def _arm(self) -> None:
        limits = self.limits
        if self._phase is _Phase.HEADERS:
            when = self._started + limits.header_timeout_s
        else:
            when = self._started + min(limits.body_grace_s, limits.body_timeout_s)
        self._deadline = self.loop.call_at(when, self._check_deadline)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _check_deadline(self) -> None:
        self._deadline = None
        if self.transport.is_closing() or self._phase is _Phase.IDLE:
            return
        now = self.loop.time()
        if self._phase is _Phase.BODY:
            if self.flow.read_paused:  # the app is not reading yet: not the client's fault
                self._deadline = self.loop.call_at(now + _PAUSED_RECHECK_S, self._check_deadline)
                return
            next_check = self._body_next_check(now)
            if next_check is not None:
                self._deadline = self.loop.call_at(next_check, self._check_deadline)
                return
        # A connection that never started a request is closed without a word.
        silent = self._phase is _Phase.HEADERS and not self._began
        self._refuse(408, _TOO_SLOW, answer=not silent)

    def _body_next_check(self, now: float) -> float | None:
        """Return when to look again, or None when the body is too slow."""
        limits = self.limits
        elapsed = now - self._started
        if elapsed >= limits.body_timeout_s or self._bytes < limits.min_body_rate * elapsed:
            return None
        # The average rate falls under the minimum at started + bytes / rate, unless more comes.
        falls_behind = self._started + self._bytes / limits.min_body_rate
        return min(max(falls_behind, now + _MIN_RECHECK_S), self._started + limits.body_timeout_s)

    def _refuse(self, status: int, message: str, *, answer: bool = True) -> None:
        """Answer ``status`` unless an answer has begun, then close the connection."""
        self._disarm()
        self._phase = _Phase.IDLE
        cycle = self.cycle
        in_progress = cycle is not None and not cycle.response_complete
        if answer and not (in_progress and cycle.response_started):
            self.transport.write(error_bytes(status, message))
        if in_progress:
            cycle.disconnected = True  # the app's receive() says so; its answer is dropped
            cycle.message_event.set()
        self.transport.close()


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name == b"content-length":
            return int(value) if value.isdigit() and len(value) < 19 else None
    return None

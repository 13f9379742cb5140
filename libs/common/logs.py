"""Structured, redacted logging: one JSON line per record on stderr, for every service.

Every record leaving the process passes through `RedactingFilter`, including uvicorn's
access lines, whose URL path carries the TradingView webhook token. Run uvicorn with
`log_config=None`: its default config re-adds its own handlers and bypasses redaction.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType, TracebackType
from typing import IO, Any, TypeAlias

from opentelemetry import trace
from pythonjsonlogger.json import JsonFormatter

from libs.common.redaction import redact, redact_mapping

_ExcInfo: TypeAlias = (
    tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]
)

_HANDLER_NAME = "sparky"
_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(service)s] %(message)s"
# Attributes every LogRecord has; anything else on a record came from `extra=` or context.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}

_CONTEXT: ContextVar[Mapping[str, object]] = ContextVar(
    "sparky_log_context", default=MappingProxyType({})
)


@contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Add `fields` (tenant_id, intent_id...) to every log line emitted inside the block."""
    token = _CONTEXT.set(MappingProxyType({**_CONTEXT.get(), **fields}))
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def current_log_context() -> dict[str, object]:
    """Return the fields `log_context` has set for the running task."""
    return dict(_CONTEXT.get())


def _trace_fields() -> dict[str, str]:
    # A sampled-out span still has valid ids, and they still correlate logs across services.
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}"}


class ContextFilter(logging.Filter):
    """Copy the log context and the current trace ids onto each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add the fields without overwriting what the call site passed in `extra=`."""
        for key, value in {**current_log_context(), **_trace_fields()}.items():
            record.__dict__.setdefault(key, value)
        return True


class RedactingFilter(logging.Filter):
    """Hide secrets in a record's message, extra fields and cached traceback text."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Render and redact the message in place, so every handler sees the safe text."""
        record.msg = _redacted_message(record)
        record.args = None
        # uvicorn's ANSI copy of the format string; meaningless once the args are rendered.
        record.__dict__.pop("color_message", None)
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS}
        record.__dict__.update(redact_mapping(extras))
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def _redacted_message(record: logging.LogRecord) -> object:
    if isinstance(record.msg, Mapping) and not record.args:
        return redact_mapping(record.msg)
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a filter that raises breaks the caller's log call
        message = f"{record.msg!s} {record.args!r}"
    return redact(message)


class _RedactingFormatter(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging's API name
        return datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")

    def formatException(self, ei: _ExcInfo) -> str:  # noqa: N802 - logging's API name
        return redact(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 - logging's API name
        return redact(super().formatStack(stack_info))


class _JsonLineFormatter(_RedactingFormatter, JsonFormatter):
    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["time"] = self.formatTime(record)
        super().add_fields(log_data, record, message_dict)


class _TextFormatter(_RedactingFormatter):
    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's API name
        line = super().formatMessage(record)
        extras = [f"{k}={v}" for k, v in vars(record).items() if k not in _STANDARD_ATTRS]
        return " ".join([line, *extras])


def _formatter(service: str, *, json: bool) -> logging.Formatter:
    if not json:
        return _TextFormatter(_TEXT_FORMAT, defaults={"service": service})
    return _JsonLineFormatter(
        ["levelname", "name", "message"],
        rename_fields={"levelname": "level", "name": "logger"},
        static_fields={"service": service},
    )


def _skip_unprinted_record_fields() -> None:
    """Stop `logging` from gathering what no formatter here prints: thread and process names
    (the "Optimization" section of the logging docs), on every log line of every service. The
    caller lookup stays: ``stack_info=True`` needs it.
    """
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def configure_logging(
    service: str, *, level: str = "INFO", json: bool = True, stream: IO[str] | None = None
) -> None:
    """Send every log record, uvicorn's included, redacted to `stream` (stderr by default).

    Calling it again replaces the handler it installed before instead of adding a second.
    """
    _skip_unprinted_record_fields()
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter())
    handler.setFormatter(_formatter(service, json=json))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in _UVICORN_LOGGERS:
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True

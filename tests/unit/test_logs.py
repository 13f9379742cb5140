from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider

from libs.common.logs import configure_logging, log_context

pytestmark = pytest.mark.unit

TOKEN = "whk_" + "Q7rT2mXk9LpZ4vBn8sYc"
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    uvicorn = {name: logging.getLogger(name) for name in UVICORN_LOGGERS}
    saved = {name: (lg.handlers[:], lg.propagate) for name, lg in uvicorn.items()}
    yield
    for handler in [h for h in root.handlers if h.get_name() == "sparky"]:
        root.removeHandler(handler)
    root.setLevel(level)
    for name, (handlers, propagate) in saved.items():
        uvicorn[name].handlers[:] = handlers
        uvicorn[name].propagate = propagate


@pytest.fixture
def stream() -> io.StringIO:
    out = io.StringIO()
    configure_logging("ingress", stream=out)
    return out


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_log_line_is_json_with_time_level_logger_message_and_service(stream: io.StringIO) -> None:
    logging.getLogger("sparky.test").warning("alert %s accepted", "a-1")

    (line,) = lines(stream)
    assert line["level"] == "WARNING"
    assert line["logger"] == "sparky.test"
    assert line["message"] == "alert a-1 accepted"
    assert line["service"] == "ingress"
    assert line["time"].endswith("+00:00")


def test_log_line_with_webhook_url_does_not_contain_the_token(stream: io.StringIO) -> None:
    logging.getLogger("sparky.test").info("alert received on %s", f"/webhooks/tv/{TOKEN}")

    assert TOKEN not in stream.getvalue()
    assert lines(stream)[0]["message"] == "alert received on /webhooks/tv/[REDACTED]"


def test_extra_fields_appear_with_their_secrets_redacted(stream: io.StringIO) -> None:
    extra = {"symbol": "BTC/USDT", "headers": {"X-MBX-APIKEY": "k" * 20}, "url": f"?token={TOKEN}"}
    logging.getLogger("sparky.test").info("order sent", extra=extra)

    (line,) = lines(stream)
    assert line["symbol"] == "BTC/USDT"
    assert line["headers"] == {"X-MBX-APIKEY": "[REDACTED]"}
    assert line["url"] == "?token=[REDACTED]"


def test_exception_traceback_is_redacted(stream: io.StringIO) -> None:
    def forward() -> None:
        raise ConnectionError(f"POST /webhooks/tv/{TOKEN} password=hunter2 failed")

    try:
        forward()
    except ConnectionError:
        logging.getLogger("sparky.test").exception("forwarding failed")

    (line,) = lines(stream)
    assert "ConnectionError" in line["exc_info"]
    assert TOKEN not in stream.getvalue()
    assert "hunter2" not in stream.getvalue()


def test_stack_info_is_redacted(stream: io.StringIO) -> None:
    # The stack shows this source line, secret literal included.
    logging.getLogger("t").info("/webhooks/tv/whk_Q7rT2mXk9LpZ4vBn8sYc", stack_info=True)

    assert "test_stack_info_is_redacted" in lines(stream)[0]["stack_info"]
    assert TOKEN not in stream.getvalue()


def test_uvicorn_access_line_is_redacted(stream: io.StringIO) -> None:
    access = logging.getLogger("uvicorn.access")
    access_args = ("10.0.0.7:51234", "POST", f"/webhooks/tv/{TOKEN}", "1.1", 200)
    access.info('%s - "%s %s HTTP/%s" %d', *access_args)

    (line,) = lines(stream)
    assert line["logger"] == "uvicorn.access"
    assert line["message"] == '10.0.0.7:51234 - "POST /webhooks/tv/[REDACTED] HTTP/1.1" 200'


def test_uvicorn_own_handlers_no_longer_bypass_redaction() -> None:
    private = io.StringIO()
    access = logging.getLogger("uvicorn.access")
    access.addHandler(logging.StreamHandler(private))
    access.propagate = False
    out = io.StringIO()

    configure_logging("ingress", stream=out)
    access.info("GET /webhooks/tv/%s", TOKEN)

    assert private.getvalue() == ""
    assert lines(out)[0]["message"] == "GET /webhooks/tv/[REDACTED]"


def test_configuring_twice_writes_each_line_once() -> None:
    out = io.StringIO()
    configure_logging("ingress", stream=out)
    configure_logging("ingress", stream=out)

    logging.getLogger("sparky.test").info("once")

    assert [line["message"] for line in lines(out)] == ["once"]


def test_log_context_fields_appear_on_every_line_inside_the_block(stream: io.StringIO) -> None:
    log = logging.getLogger("sparky.test")
    with log_context(tenant_id="t-1", intent_id="i-1"):
        log.info("first")
        log.info("second")
    log.info("after")

    first, second, after = lines(stream)
    assert first["tenant_id"] == second["tenant_id"] == "t-1"
    assert second["intent_id"] == "i-1"
    assert "tenant_id" not in after


def test_nested_log_context_adds_fields_and_restores_the_outer_ones(stream: io.StringIO) -> None:
    log = logging.getLogger("sparky.test")
    with log_context(tenant_id="t-1"):
        with log_context(intent_id="i-1", tenant_id="t-2"):
            log.info("inner")
        log.info("outer")

    inner, outer = lines(stream)
    assert (inner["tenant_id"], inner["intent_id"]) == ("t-2", "i-1")
    assert outer["tenant_id"] == "t-1"
    assert "intent_id" not in outer


def test_explicit_extra_wins_over_the_log_context(stream: io.StringIO) -> None:
    with log_context(tenant_id="t-1"):
        logging.getLogger("sparky.test").info("moved", extra={"tenant_id": "t-9"})

    assert lines(stream)[0]["tenant_id"] == "t-9"


async def test_log_context_is_isolated_between_asyncio_tasks(stream: io.StringIO) -> None:
    log = logging.getLogger("sparky.test")
    both_inside = asyncio.Barrier(2)

    async def handle(tenant_id: str) -> None:
        with log_context(tenant_id=tenant_id):
            await both_inside.wait()
            log.info("handled %s", tenant_id)

    await asyncio.gather(handle("t-1"), handle("t-2"))

    assert {(line["message"], line["tenant_id"]) for line in lines(stream)} == {
        ("handled t-1", "t-1"),
        ("handled t-2", "t-2"),
    }


def test_log_line_inside_a_span_carries_its_trace_and_span_ids(stream: io.StringIO) -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("place order") as span:
        logging.getLogger("sparky.test").info("placing")
    context = span.get_span_context()

    (line,) = lines(stream)
    assert line["trace_id"] == f"{context.trace_id:032x}"
    assert line["span_id"] == f"{context.span_id:016x}"


def test_log_line_outside_a_span_has_no_trace_ids(stream: io.StringIO) -> None:
    logging.getLogger("sparky.test").info("idle")

    assert "trace_id" not in lines(stream)[0]


def test_plain_text_output_is_readable_and_redacted() -> None:
    out = io.StringIO()
    configure_logging("router", json=False, stream=out)

    with log_context(tenant_id="t-1"):
        logging.getLogger("sparky.test").info("token=%s", TOKEN)

    text = out.getvalue()
    assert "INFO sparky.test [router] token=[REDACTED] tenant_id=t-1" in text
    assert TOKEN not in text


def test_level_below_the_configured_one_is_dropped() -> None:
    out = io.StringIO()
    configure_logging("router", level="warning", stream=out)

    logging.getLogger("sparky.test").info("chatty")

    assert out.getvalue() == ""


def test_message_with_mismatched_args_is_still_logged(stream: io.StringIO) -> None:
    logging.getLogger("sparky.test").info("qty %d", "not-a-number")

    assert lines(stream)[0]["message"].startswith("qty %d")

"""The server's deadlines and size limits (libs.common.http_limits), on a real uvicorn over TCP.

Each test speaks raw HTTP/1.1 through a socket, the way a slow or hostile client would, to a
small app served with the guarded protocol and short limits.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI, Request

from libs.common.api import install_error_answers
from libs.common.http_limits import GuardedHttpToolsProtocol, ReadLimits
from tests.helpers.billing import served

LIMITS = ReadLimits(
    header_timeout_s=1.0,
    body_grace_s=0.5,
    min_body_rate=200.0,
    body_timeout_s=2.0,
    max_body_bytes=1000,
    max_header_bytes=4096,
)
SLACK_S = 1.0  # the machine is shared: timers may fire late


def _app(calls: list[str]) -> FastAPI:
    app = FastAPI()
    install_error_answers(app)

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        calls.append("echo")
        return {"bytes": len(await request.body())}

    @app.post("/early")
    async def early() -> dict[str, str]:  # answers without reading the body
        return {"answered": "early"}

    return app


@pytest.fixture
async def server() -> AsyncIterator[tuple[int, list[str]]]:
    """The app on a free port; yields the port and the list of calls the app saw."""
    calls: list[str] = []
    protocol = GuardedHttpToolsProtocol.with_limits(LIMITS)
    async with served(_app(calls), http=protocol) as url:
        yield int(url.rsplit(":", 1)[1]), calls


async def exchange(port: int, *parts: bytes, pause_s: float = 0.0) -> tuple[bytes, float]:
    """Send ``parts`` (``pause_s`` apart) while reading until the server hangs up; return what
    came back and when the connection ended, in seconds from its start.
    """
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def answer() -> tuple[bytes, float]:
        received = b""
        try:
            while chunk := await reader.read(4096):
                received += chunk
        except ConnectionError:
            pass
        return received, time.monotonic() - started

    reading = asyncio.create_task(answer())
    try:
        for part in parts:
            if reading.done():
                break  # the server hung up
            try:
                writer.write(part)
                await writer.drain()
            except ConnectionError:
                break
            await asyncio.sleep(pause_s)
        return await asyncio.wait_for(reading, timeout=10)
    finally:
        writer.close()


def status(answer: bytes) -> int | None:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None


def body(answer: bytes) -> dict[str, object]:
    parsed: dict[str, object] = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    return parsed


def head(path: str, length: int, extra: str = "") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n{extra}\r\n"
    ).encode()


async def test_a_stalled_body_is_cut_off_after_its_grace_with_408(
    server: tuple[int, list[str]],
) -> None:
    port, _ = server
    answer, took = await exchange(port, head("/echo", 200) + b'{"a":"')
    assert status(answer) == 408
    assert body(answer) == {"error": body(answer)["error"], "errors": []}
    assert LIMITS.body_grace_s <= took < LIMITS.body_grace_s + SLACK_S


async def test_a_body_trickling_in_below_the_minimum_rate_is_cut_off(
    server: tuple[int, list[str]],
) -> None:
    port, _ = server
    # 20 bytes a second against a minimum of 200: cut once the grace is over.
    trickle = [b"x" * 2] * 30
    answer, took = await exchange(port, head("/echo", 60), *trickle, pause_s=0.1)
    assert status(answer) == 408
    assert took < LIMITS.body_grace_s + 1.0 + SLACK_S


async def test_a_slow_body_above_the_minimum_rate_is_read_whole(
    server: tuple[int, list[str]],
) -> None:
    port, _ = server
    # 400 bytes a second for 1.5 s, well past the grace, within the whole body's deadline: kept.
    chunks = [b"y" * 40] * 15
    answer, took = await exchange(
        port, head("/echo", 600, "Connection: close\r\n"), *chunks, pause_s=0.1
    )
    assert status(answer) == 200, answer
    assert body(answer) == {"bytes": 600}
    assert took >= 1.4


async def test_a_body_slower_than_its_whole_deadline_is_cut_off_even_above_the_rate(
    server: tuple[int, list[str]],
) -> None:
    port, _ = server
    chunks = [b"y" * 40] * 40  # 400 bytes a second, for longer than the 2 s deadline
    answer, took = await exchange(port, head("/echo", 1000), *chunks, pause_s=0.1)
    assert status(answer) == 408
    assert LIMITS.body_timeout_s <= took < LIMITS.body_timeout_s + SLACK_S


async def test_headers_that_never_end_get_408_and_a_silent_connection_is_closed(
    server: tuple[int, list[str]],
) -> None:
    port, calls = server
    partial, partial_took = await exchange(port, b"POST /echo HTTP/1.1\r\nHost: te")
    silent, silent_took = await exchange(port)
    assert status(partial) == 408
    assert silent == b""
    for took in (partial_took, silent_took):
        assert LIMITS.header_timeout_s <= took < LIMITS.header_timeout_s + SLACK_S
    assert calls == []


async def test_a_body_announced_too_large_is_refused_before_the_app_sees_it(
    server: tuple[int, list[str]],
) -> None:
    port, calls = server
    answer, took = await exchange(port, head("/echo", 5000))
    assert status(answer) == 413
    assert "1000 bytes" in str(body(answer)["error"])
    assert took < SLACK_S
    assert calls == []


async def test_a_chunked_body_is_refused_as_soon_as_it_grows_too_large(
    server: tuple[int, list[str]],
) -> None:
    port, _ = server
    start = b"POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = b"%x\r\n%s\r\n" % (600, b"z" * 600)
    answer, took = await exchange(port, start + chunk + chunk)
    assert status(answer) == 413
    assert took < SLACK_S


async def test_headers_growing_beyond_the_limit_get_431(server: tuple[int, list[str]]) -> None:
    port, calls = server
    lines = [f"X-Padding-{n}: {'p' * 1000}\r\n".encode() for n in range(10)]
    answer, took = await exchange(port, b"POST /echo HTTP/1.1\r\n", *lines, pause_s=0.01)
    assert status(answer) == 431
    assert took < SLACK_S
    assert calls == []


async def test_a_body_still_trickling_after_an_early_answer_does_not_hold_the_connection(
    server: tuple[int, list[str]],
) -> None:
    port, _ = server
    answer, took = await exchange(port, head("/early", 500), *[b"."] * 40, pause_s=0.1)
    assert status(answer) == 200  # the app's answer, then the connection is closed
    assert took < LIMITS.body_grace_s + SLACK_S + 0.5


async def test_requests_on_a_kept_alive_connection_each_get_their_own_deadlines(
    server: tuple[int, list[str]],
) -> None:
    port, _ = server
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for _ in range(3):
            writer.write(head("/echo", 2) + b"{}")
            await writer.drain()
            line = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            assert line.startswith(b"HTTP/1.1 200")
            length = int(line.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            await asyncio.sleep(LIMITS.header_timeout_s / 2)  # idle, under uvicorn's keep-alive
        writer.write(b"POST /echo HTTP/1.1\r\n")  # then a request that stalls in its headers
        await writer.drain()
        rest = await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()
    assert status(rest) == 408

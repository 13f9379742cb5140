"""A bare keep-alive HTTP/1.1 client connection for the load generators: one request at a
time, answering (status, body). Much cheaper per request than an HTTP library, so the
generator's own CPU does not limit the rate it offers.
"""

from __future__ import annotations

import asyncio
from typing import cast


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection, one request at a time, answering (status, body)."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.transport: asyncio.Transport | None = None
        self.closed = False  # uvicorn closes keep-alive connections idle for 5 s

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or self.waiter is None:
            return
        head = bytes(self.buffer[:end]).lower()
        stop = end + 4 + content_length(head)
        if len(self.buffer) < stop:
            return
        body = bytes(self.buffer[end + 4 : stop])
        del self.buffer[:stop]
        waiter, self.waiter = self.waiter, None
        if not waiter.done():  # cancelled when the run gave up waiting for this answer
            waiter.set_result((int(head[9:12]), body))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection lost"))

    async def send(self, request: bytes) -> tuple[int, bytes]:
        if self.transport is None:
            raise ConnectionError("not connected")
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.waiter


def content_length(head: bytes) -> int:
    at = head.find(b"content-length:")
    if at < 0:
        return 0
    stop = head.find(b"\r\n", at)
    return int(head[at + 15 : stop if stop >= 0 else None])

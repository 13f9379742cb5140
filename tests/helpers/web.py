"""Test helpers for the web app: a real SMTP server that keeps what it receives, and a
browser-like client that carries cookies and the page's CSRF token into its forms.
"""

from __future__ import annotations

import asyncio
import email
import re
import time
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.helpers.ports import free_port

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_LINK = re.compile(r"(https?://\S+)")


@dataclass
class Inbox:
    """What the SMTP server received, in order."""

    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        content = envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        self.messages.append(email.message_from_bytes(raw))
        return "250 Message accepted"

    def to(self, address: str) -> list[Message]:
        """The messages sent to ``address``."""
        return [m for m in self.messages if m["To"] == address]

    async def wait_for(self, address: str, subject: str, timeout_s: float = 10.0) -> Message:
        """Return the latest message to ``address`` whose subject contains ``subject``."""
        deadline = time.monotonic() + timeout_s
        while True:
            found = [m for m in self.to(address) if subject in str(m["Subject"])]
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no mail {subject!r} to {address} within {timeout_s} s")
            await asyncio.sleep(0.02)


def body_of(message: Message) -> str:
    """The plain-text body of ``message``."""
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def link_in(message: Message, path: str) -> str:
    """The path and query of the link to ``path`` in ``message``."""
    for link in _LINK.findall(body_of(message)):
        url = httpx.URL(link)
        if url.path == path:
            return f"{url.path}?{url.query.decode()}"
    raise AssertionError(f"no link to {path} in the mail")


class SmtpServer:
    """aiosmtpd on a free loopback port, in its own thread."""

    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


class Browser:
    """An HTTP client that keeps cookies and fills forms with the page's CSRF token."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.csrf = ""

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """GET ``path``; remember the page's CSRF token."""
        response = await self.http.get(path, **kwargs)
        found = _CSRF.search(response.text)
        if found:
            self.csrf = found.group(1)
        return response

    async def submit(self, page: str, action: str, **fields: str) -> httpx.Response:
        """Open ``page`` and post its form to ``action`` with ``fields``, as a browser would."""
        await self.get(page)
        return await self.post(action, **fields)

    async def post(self, action: str, **fields: str) -> httpx.Response:
        """Post ``fields`` with the last page's CSRF token."""
        response = await self.http.post(action, data={"csrf_token": self.csrf, **fields})
        found = _CSRF.search(response.text)
        if found:
            self.csrf = found.group(1)
        return response

    async def sign_in(self, email_address: str, password: str, **extra: str) -> httpx.Response:
        """Sign in; return the answer (303 on success)."""
        return await self.submit(
            "/login", "/login", email=email_address, password=password, **extra
        )

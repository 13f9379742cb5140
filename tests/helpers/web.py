"""Test helpers for the web app: reading what it mailed to the local SMTP server
(`scripts.mailbox`, the one `make run` and the browser tests use), and a browser-like client
that carries cookies and the page's CSRF token into its forms.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from scripts.mailbox import Mail, Mailbox

PUBLIC_URL = "http://web.test"
WebFactory = Callable[..., AbstractAsyncContextManager[FastAPI]]
"""Starts a web app with the test's settings, changed by keyword arguments."""

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def mail_to(box: Mailbox, address: str, subject: str, timeout_s: float = 10.0) -> Mail:
    """Return the latest message to ``address`` whose subject contains ``subject``, waiting
    for it (in a thread: the app under test runs on this event loop)."""
    return await box.until(address, subject, timeout_s)


def mails_to(box: Mailbox, address: str) -> list[Mail]:
    """Every message to ``address`` so far, oldest first."""
    return box.to(address)


def link_in(mail: Mail, path: str) -> str:
    """The path and query of the link to ``path`` in ``mail``."""
    for link in mail.links():
        url = httpx.URL(link)
        if url.path == path:
            return f"{url.path}?{url.query.decode()}"
    raise AssertionError(f"no link to {path} in the mail")


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


def browser_of(app: FastAPI) -> AbstractAsyncContextManager[Browser]:
    """A new browser (its own cookies) on ``app``."""

    @asynccontextmanager
    async def open_browser() -> AsyncIterator[Browser]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as http:
            yield Browser(http)

    return open_browser()

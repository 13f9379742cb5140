"""What the auth pages share: the app's objects, cookies, safe redirects, form limits."""

from __future__ import annotations

import re
from typing import Annotated

import httpx
from fastapi import Form, Request
from fastapi.responses import RedirectResponse

from services.web.auth.addresses import client_address, parse_networks
from services.web.auth.provisioning import Provisioner
from services.web.auth.sessions import Sessions
from services.web.auth.throttle import Throttle
from services.web.auth.users import Users
from services.web.config import WebSettings
from services.web.mail import Mailer
from services.web.runtime import runtime_of
from services.web.session import SESSION_COOKIE, set_cookie

EMAIL_RE = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
EmailField = Annotated[str, Form(max_length=254)]
PasswordField = Annotated[str, Form(max_length=1024)]
CodeField = Annotated[str, Form(max_length=16)]
NOTICES = {
    "verified": "Your email is confirmed. Sign in to continue.",
    "reset": "Your password is changed and every session was signed out. Sign in again.",
    "signed-out": "You are signed out.",
    "everywhere": "You are signed out on every device.",
}


def settings(request: Request) -> WebSettings:
    """The app's settings."""
    return runtime_of(request).settings


def users(request: Request) -> Users:
    """The users store."""
    return runtime_of(request).users


def sessions(request: Request) -> Sessions:
    """The sessions store."""
    return runtime_of(request).sessions


def throttle(request: Request) -> Throttle:
    """The sign-in throttle."""
    return runtime_of(request).throttle


def resend_throttle(request: Request) -> Throttle:
    """The throttle of "send the verification link again"."""
    return runtime_of(request).resend_throttle


def signup_throttle(request: Request) -> Throttle:
    """Sign-up forms per email and per client address (each may send a mail)."""
    return runtime_of(request).signup_throttle


def provisioner(request: Request) -> Provisioner:
    """Billing's sign-up, for users without a tenant yet."""
    return runtime_of(request).provisioner


def mailer(request: Request) -> Mailer:
    """The SMTP sender."""
    return runtime_of(request).mailer


def http(request: Request) -> httpx.AsyncClient:
    """The client the app calls the other services with."""
    return runtime_of(request).http


def address_of(request: Request) -> str:
    """The client's address for throttling."""
    return client_address(request, parse_networks(settings(request).trusted_proxies))


def safe_next(value: str | None) -> str:
    """Return ``value`` if it is a path of this site, else ``/`` (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def redirect(path: str) -> RedirectResponse:
    """A 303 to ``path`` (after a POST, the browser GETs it)."""
    return RedirectResponse(path, status_code=303)


def with_session_cookie(request: Request, response: RedirectResponse, token: str) -> None:
    """Set the session cookie for the session's lifetime."""
    lifetime_s = int(settings(request).session_days * 86_400)
    set_cookie(request, response, SESSION_COOKIE, token, lifetime_s)


def without_session_cookie(request: Request, response: RedirectResponse) -> None:
    """Remove the session cookie."""
    set_cookie(request, response, SESSION_COOKIE, "", 0)

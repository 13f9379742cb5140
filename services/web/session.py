"""Who is signed in, and the CSRF check every form's POST goes through.

- `signed_in` (a dependency of every signed-in page): the `SignedIn` of the request's
  ``sparky_session`` cookie; without a live session the browser is sent to ``/login``, and a
  user whose email is not verified yet sees the "verify your email" page instead.
- `verify_csrf` (a dependency of every POST): the form field ``csrf_token`` or the header
  ``X-CSRF-Token`` must carry the token of this browser: with a session, an HMAC of the
  session's id (a synchroniser token that needs no storage); before sign-in, an HMAC of a
  random value in the ``sparky_csrf`` cookie (a signed double-submit cookie). SameSite=Lax
  cookies are a second line, not the only one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from fastapi import Request
from starlette.responses import Response

from services.web.errors import CsrfRefusedError, EmailNotVerifiedError, NotSignedInError
from services.web.runtime import runtime_of

if TYPE_CHECKING:
    from libs.common.sealing import DataBox
    from services.web.auth.sessions import ActiveSession, Sessions
    from services.web.config import WebSettings
    from services.web.crypto import Signer

SESSION_COOKIE = "sparky_session"
PRE_CSRF_COOKIE = "sparky_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_UNRESOLVED = object()


@dataclass(frozen=True)
class SignedIn:
    """The signed-in user of a request."""

    user_id: str
    tenant_id: str
    email: str
    session_id: str
    csrf_token: str
    totp_enabled: bool


def _sessions(request: Request) -> Sessions:
    sessions: Sessions = runtime_of(request).sessions
    return sessions


def _csrf_signer(request: Request) -> Signer:
    signer: Signer = runtime_of(request).csrf_signer
    return signer


async def current_session(request: Request) -> ActiveSession | None:
    """Return the live session of the request's cookie (resolved once per request), or None."""
    cached = getattr(request.state, "web_session", _UNRESOLVED)
    if cached is not _UNRESOLVED:
        return cached  # type: ignore[return-value]
    token = request.cookies.get(SESSION_COOKIE)
    session = await _sessions(request).resolve(token) if token else None
    request.state.web_session = session
    return session


def session_csrf(request: Request, session_id: str) -> str:
    """Return the CSRF token of the session ``session_id``."""
    return _csrf_signer(request).sign("session:" + session_id)


async def signed_in(request: Request) -> SignedIn:
    """Return the signed-in user; refuse with a redirect to ``/login`` or the verify page."""
    session = await current_session(request)
    if session is None or session.tenant_id is None:
        raise NotSignedInError(_next_path(request))
    if not session.verified:
        raise EmailNotVerifiedError(session)
    return signed_in_from(request, session)


def signed_in_from(request: Request, session: ActiveSession) -> SignedIn:
    """Return the `SignedIn` of a session known to be live and set up."""
    return SignedIn(
        user_id=session.user_id,
        tenant_id=session.tenant_id or "",
        email=session.email,
        session_id=session.session_id,
        csrf_token=session_csrf(request, session.session_id),
        totp_enabled=session.totp_enabled,
    )


def _next_path(request: Request) -> str:
    path = request.url.path
    if request.url.query:
        path += "?" + request.url.query
    return quote(path, safe="/?=&")


def pre_login_nonce(request: Request) -> tuple[str, bool]:
    """Return this browser's pre-sign-in CSRF nonce and whether it is new (set the cookie)."""
    nonce = request.cookies.get(PRE_CSRF_COOKIE)
    if nonce and 16 <= len(nonce) <= 64:
        return nonce, False
    cached: str | None = getattr(request.state, "web_pre_nonce", None)
    if cached is None:
        cached = secrets.token_urlsafe(24)
        request.state.web_pre_nonce = cached
    return cached, True


async def csrf_token_for(request: Request) -> str:
    """Return the CSRF token forms of this request's page must carry."""
    session = await current_session(request)
    if session is not None:
        return session_csrf(request, session.session_id)
    nonce, _new = pre_login_nonce(request)
    return _csrf_signer(request).sign("pre:" + nonce)


async def verify_csrf(request: Request) -> None:
    """Refuse (403) a request whose CSRF token is missing or not this browser's."""
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not await _csrf_matches(request, sent):
        raise CsrfRefusedError


async def _csrf_matches(request: Request, sent: str) -> bool:
    signer = _csrf_signer(request)
    session = await current_session(request)
    if session is not None:
        return signer.verify("session:" + session.session_id, sent)
    nonce = request.cookies.get(PRE_CSRF_COOKIE)
    return bool(nonce) and signer.verify("pre:" + str(nonce), sent)


def set_cookie(
    request: Request, response: Response, name: str, value: str, max_age_s: int | None
) -> None:
    """Set one of the app's cookies: HttpOnly, SameSite=Lax, Secure by the settings."""
    settings: WebSettings = runtime_of(request).settings
    response.set_cookie(
        name,
        value,
        max_age=max_age_s,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
    )


def remember_pre_login_nonce(request: Request, response: Response) -> None:
    """Set the ``sparky_csrf`` cookie when this request made the browser a new nonce."""
    nonce, new = pre_login_nonce(request)
    if new:
        set_cookie(request, response, PRE_CSRF_COOKIE, nonce, None)


def data_box(request: Request) -> DataBox:
    """Return the app's `DataBox` (sealed API keys, webhook tokens, TOTP secrets)."""
    box: DataBox = runtime_of(request).data_box
    return box

"""Sign-in and sign-out.

A failed sign-in says the same for an unknown email and a wrong password, after the same work
(an argon2 check against a stand-in hash), and counts against the email and the address
alike (`throttle`). A new session gets a new token every time (no fixation).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from services.web.api.auth_common import (
    NOTICES,
    EmailField,
    PasswordField,
    address_of,
    http,
    provisioner,
    redirect,
    safe_next,
    sessions,
    throttle,
    users,
    with_session_cookie,
    without_session_cookie,
)
from services.web.auth import totp
from services.web.auth.passwords import check_password, hash_password, needs_rehash
from services.web.auth.users import User, email_key
from services.web.errors import ProvisioningError
from services.web.metrics import LOGINS
from services.web.rendering import render
from services.web.runtime import runtime_of
from services.web.session import current_session, data_box, verify_csrf
from services.web.tenant_keys import totp_context

router = APIRouter()
WRONG = "That email and password do not match an account."
THROTTLED = (
    "Too many failed sign-ins for this account or from this network. Wait 15 minutes and try "
    "again, or reset your password."
)


@router.get("/login")
async def login_form(request: Request, next: str = "/", notice: str = "") -> Response:
    """The sign-in form (a signed-in user goes on to the app)."""
    if await current_session(request) is not None:
        return redirect(safe_next(next))
    context = {"next": safe_next(next), "notice": NOTICES.get(notice)}
    return await render(request, "auth/login.html", context)


@router.post("/login", dependencies=[Depends(verify_csrf)])
async def login(
    request: Request,
    email: EmailField,
    password: PasswordField,
    totp_code: Annotated[str, Form(alias="totp", max_length=16)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the password (and code), then open a session."""
    key, address = email_key(email), address_of(request)
    context: dict[str, object] = {"email": email.strip(), "next": safe_next(next)}
    if await throttle(request).blocked(key, address):
        LOGINS.labels("throttled").inc()
        return await render(
            request, "auth/login.html", {**context, "error": THROTTLED}, status_code=429
        )
    user = await users(request).find(email)
    if not await check_password(user.password_hash if user else None, password) or user is None:
        await throttle(request).record(key, address)
        LOGINS.labels("failure").inc()
        return await render(
            request, "auth/login.html", {**context, "error": WRONG}, status_code=400
        )
    if user.totp_enabled:
        problem = await _second_factor(request, user, totp_code)
        if problem:
            if totp_code:
                await throttle(request).record(key, address)
            LOGINS.labels("failure" if totp_code else "totp_required").inc()
            context |= {"error": problem, "totp_required": True}
            return await render(request, "auth/login.html", context, status_code=400)
    if needs_rehash(user.password_hash):
        await users(request).update(user.user_id, password_hash=await hash_password(password))
    try:
        await provisioner(request).provision(http(request), user)
    except ProvisioningError:
        LOGINS.labels("failure").inc()
        message = "We could not finish setting up your account just now. Try again in a minute."
        return await render(
            request, "auth/login.html", {**context, "error": message}, status_code=503
        )
    token = await sessions(request).open(user.user_id)
    await throttle(request).succeeded(key)
    LOGINS.labels("success").inc()
    response = redirect(safe_next(next))
    with_session_cookie(request, response, token)
    return response


async def _second_factor(request: Request, user: User, code: str) -> str | None:
    """Return why ``code`` is not accepted for ``user``, or None."""
    if not code:
        return "Enter the 6-digit code from your authenticator app."
    if user.totp_secret_sealed is None:
        return "Two-factor sign-in is not set up right; reset your password."
    secret = data_box(request).open(user.totp_secret_sealed, totp_context(user.user_id))
    step = totp.matching_step(secret, code, runtime_of(request).clock())
    if step is None or not await users(request).use_totp_step(user.user_id, step):
        return "That code is not right (or was used already). Enter the current one."
    return None


@router.post("/logout", dependencies=[Depends(verify_csrf)])
async def logout(request: Request) -> Response:
    """End this session."""
    session = await current_session(request)
    if session is not None:
        await sessions(request).revoke(session.user_id, session.session_id)
    response = redirect("/login?notice=signed-out")
    without_session_cookie(request, response)
    return response

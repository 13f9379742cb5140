"""Sign-up and email verification.

Every sign-up is answered the same way, "check your inbox", whether the email is new, taken or
half-way through signing up, and after the same work (one argon2 operation): billing's call and
the mails happen after the answer, so neither the words nor the timing say which emails exist.
The owner of a taken address gets a mail saying someone tried. The form is throttled per email
and per client address (every form may mail the address), whatever the email's state, so the
throttle says nothing about which emails exist either.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import Response
from starlette.applications import Starlette

from services.web.api.auth_common import (
    EMAIL_RE,
    EmailField,
    PasswordField,
    address_of,
    redirect,
    resend_throttle,
    settings,
    signup_throttle,
    users,
)
from services.web.auth import mails
from services.web.auth.passwords import check_password, hash_password, password_problem
from services.web.auth.users import Purpose, Users
from services.web.config import WebSettings
from services.web.errors import EmailTakenError, MailError, ProvisioningError
from services.web.mail import Mail, Mailer
from services.web.metrics import SIGNUPS
from services.web.rendering import render
from services.web.runtime import runtime_of
from services.web.session import current_session, verify_csrf

log = logging.getLogger(__name__)
router = APIRouter()


@router.get("/signup")
async def signup_form(request: Request) -> Response:
    """The sign-up form."""
    return await render(request, "auth/signup.html")


@router.post("/signup", dependencies=[Depends(verify_csrf)])
async def signup(
    request: Request,
    background: BackgroundTasks,
    email: EmailField,
    password: PasswordField,
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Create the account (or not, the answer is the same), then mail the link."""
    email, name = email.strip(), " ".join(name.split())
    problem = None if EMAIL_RE.fullmatch(email) else "Enter a valid email address."
    problem = problem or password_problem(password, email)
    if problem:
        SIGNUPS.labels("refused").inc()
        context = {"error": problem, "email": email, "name": name}
        return await render(request, "auth/signup.html", context, status_code=400)
    limiter, address = signup_throttle(request), address_of(request)
    if await limiter.blocked(email.casefold(), address):
        SIGNUPS.labels("refused").inc()
        minutes = settings(request).resend_window_minutes
        error = (
            "This address, or this network, has sent the sign-up form several times already. "
            f"Check your inbox (and spam folder) for our mail, or try again in {minutes:g} "
            "minutes."
        )
        context = {"error": error, "email": email, "name": name}
        return await render(request, "auth/signup.html", context, status_code=429)
    await limiter.record(email.casefold(), address)
    app: Starlette = request.app
    store, found = users(request), await users(request).find(email)
    if found is None:
        user_id = secrets.token_hex(16)
        try:
            await store.create(
                user_id, email, name or email.partition("@")[0], await hash_password(password)
            )
        except EmailTakenError:  # signed up meanwhile by someone else: like a taken address
            SIGNUPS.labels("refused").inc()
            background.add_task(
                send_mail, app, mails.already_registered(email, settings(request).public_url)
            )
        else:
            background.add_task(finish_signup, app, user_id)
    elif await check_password(found.password_hash, password) and (
        not found.verified or found.tenant_id is None
    ):
        background.add_task(finish_signup, app, found.user_id)  # a sign-up sent again
    else:
        SIGNUPS.labels("refused").inc()
        background.add_task(
            send_mail, app, mails.already_registered(found.email, settings(request).public_url)
        )
    return await render(request, "auth/signup_done.html", {"email": email})


async def finish_signup(app: Starlette, user_id: str) -> None:
    """Give the user their tenant (billing) and mail the verification link; a failure of
    either is left for the next attempt (sign-in retries billing, the page resends the link).
    """
    runtime = runtime_of(app)
    user = await runtime.users.get(user_id)
    if user is None:
        return
    try:
        await runtime.provisioner.provision(runtime.http, user)
    except ProvisioningError:
        SIGNUPS.labels("failed").inc()
        log.warning("sign-up left without a tenant; sign-in will retry")
    else:
        SIGNUPS.labels("created").inc()
    if not user.verified:
        await send_verification(app, user_id, user.email)


async def send_verification(app: Starlette, user_id: str, email: str) -> None:
    """Issue a verification link and mail it (a mail failure is logged, not raised)."""
    config: WebSettings = runtime_of(app).settings
    store: Users = runtime_of(app).users
    ttl = timedelta(hours=config.verify_token_hours)
    token = await store.issue_token(user_id, Purpose.VERIFY, ttl)
    await send_mail(
        app, mails.verification(email, config.public_url, token, config.verify_token_hours)
    )


async def send_mail(app: Starlette, mail: Mail) -> None:
    mailer: Mailer = runtime_of(app).mailer
    try:
        await mailer.send(mail)
    except MailError:
        log.warning("a mail to a user was not sent")


@router.get("/verify")
async def verify(request: Request, token: str = "") -> Response:
    """Follow the mailed link: confirm the email, once."""
    user_id = await users(request).consume_token(token, Purpose.VERIFY) if token else None
    if user_id is None:
        message = "This link has expired or was used already. Sign in to get a new one."
        return await render(
            request, "error.html", {"status": 400, "message": message}, status_code=400
        )
    await users(request).mark_verified(user_id)
    session = await current_session(request)
    return redirect("/" if session and session.user_id == user_id else "/login?notice=verified")


@router.post("/verify/resend", dependencies=[Depends(verify_csrf)])
async def resend(request: Request) -> Response:
    """Mail a new verification link to the signed-in, unverified user."""
    session = await current_session(request)
    if session is None:
        return redirect("/login")
    if session.verified:
        return redirect("/")
    limiter, address = resend_throttle(request), address_of(request)
    if await limiter.blocked(session.user_id, address):
        minutes = settings(request).resend_window_minutes
        error = (
            "You have asked for new links several times already. Open the newest one we sent "
            f"(check your spam folder too), or ask again in {minutes:g} minutes."
        )
        context = {"email": session.email, "error": error}
        return await render(request, "auth/verify_pending.html", context, status_code=429)
    await limiter.record(session.user_id, address)
    await send_verification(request.app, session.user_id, session.email)
    notice = "We sent a new link; the earlier ones no longer work."
    return await render(
        request, "auth/verify_pending.html", {"email": session.email, "notice": notice}
    )

"""Password reset by mail. Asking for a link answers the same for any email, the lookup and
the mail happening after the answer; the link works once, for a short while, and a new
password signs the user out everywhere.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import Response
from starlette.applications import Starlette

from services.web.api.auth_common import EmailField, PasswordField, redirect, sessions, users
from services.web.api.signup import send_mail
from services.web.auth import mails
from services.web.auth.passwords import hash_password, password_problem
from services.web.auth.users import Purpose, Users
from services.web.config import WebSettings
from services.web.crypto import digest
from services.web.rendering import render
from services.web.runtime import runtime_of
from services.web.session import verify_csrf

router = APIRouter()
TokenField = Annotated[str, Form(max_length=128)]
EXPIRED = "This link has expired or was used already. Ask for a new one."


@router.get("/password/forgot")
async def forgot_form(request: Request) -> Response:
    """The form that asks for a reset link."""
    return await render(request, "auth/forgot.html")


@router.post("/password/forgot", dependencies=[Depends(verify_csrf)])
async def forgot(request: Request, background: BackgroundTasks, email: EmailField) -> Response:
    """Mail a reset link if an account uses ``email``; answer the same either way."""
    background.add_task(_mail_reset_link, request.app, email)
    return await render(request, "auth/forgot_done.html", {"email": email.strip()})


async def _mail_reset_link(app: Starlette, email: str) -> None:
    store: Users = runtime_of(app).users
    config: WebSettings = runtime_of(app).settings
    user = await store.find(email)
    if user is None:
        return
    ttl = timedelta(minutes=config.reset_token_minutes)
    token = await store.issue_token(user.user_id, Purpose.RESET, ttl)
    await send_mail(
        app, mails.password_reset(user.email, config.public_url, token, config.reset_token_minutes)
    )


@router.get("/password/reset")
async def reset_form(request: Request, token: str = "") -> Response:
    """The new-password form of a mailed link (the link is not used up by looking)."""
    if not token or not await users(request).token_usable(token, Purpose.RESET):
        return await render(request, "auth/forgot.html", {"error": EXPIRED}, status_code=400)
    return await render(request, "auth/reset.html", {"token": token})


@router.post("/password/reset", dependencies=[Depends(verify_csrf)])
async def reset(request: Request, token: TokenField, password: PasswordField) -> Response:
    """Set the new password, use the link up, end every session."""
    store = users(request)
    user_id = await runtime_of(request).db.user_by("web_user_by_email_token", digest(token))
    user = await store.get(user_id) if user_id else None
    if user is None or not await store.token_usable(token, Purpose.RESET):
        return await render(request, "auth/forgot.html", {"error": EXPIRED}, status_code=400)
    problem = password_problem(password, user.email)
    if problem:
        context = {"token": token, "error": problem}
        return await render(request, "auth/reset.html", context, status_code=400)
    if await store.consume_token(token, Purpose.RESET) != user.user_id:
        return await render(request, "auth/forgot.html", {"error": EXPIRED}, status_code=400)
    await store.update(user.user_id, password_hash=await hash_password(password))
    await store.mark_verified(user.user_id)  # the link proved the address is theirs
    await sessions(request).revoke_all(user.user_id)
    return redirect("/login?notice=reset")

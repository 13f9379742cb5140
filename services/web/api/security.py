"""The security page: two-factor sign-in (TOTP) and signing out everywhere.

Enrolment keeps the new secret sealed but off until a code from the app confirms it; turning
it off takes the password and a current code. Live exchange keys need it on
(`SignedIn.totp_enabled`, checked where keys are added).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from services.web.api.auth_common import (
    CodeField,
    PasswordField,
    redirect,
    sessions,
    users,
    without_session_cookie,
)
from services.web.auth import totp
from services.web.auth.passwords import check_password
from services.web.rendering import render
from services.web.runtime import runtime_of
from services.web.session import SignedIn, data_box, signed_in, verify_csrf
from services.web.tenant_keys import totp_context

router = APIRouter(prefix="/security")
CSRF = [Depends(verify_csrf)]


async def _page(
    request: Request, user: SignedIn, *, error: str | None = None, notice: str | None = None
) -> Response:
    found = await users(request).get(user.user_id)
    pending = None
    if found and found.totp_secret_sealed is not None and not found.totp_enabled:
        secret = data_box(request).open(found.totp_secret_sealed, totp_context(user.user_id))
        pending = {"secret": secret, "uri": totp.enrolment_uri(secret, user.email)}
    context = {
        "totp_enabled": bool(found and found.totp_enabled),
        "pending": pending,
        "error": error,
        "notice": notice,
    }
    return await render(request, "auth/security.html", context, status_code=400 if error else 200)


@router.get("")
async def security(request: Request, user: SignedIn = Depends(signed_in)) -> Response:  # noqa: B008
    """Two-factor state and the sign-out-everywhere button."""
    return await _page(request, user)


@router.post("/totp/start", dependencies=CSRF)
async def start(request: Request, user: SignedIn = Depends(signed_in)) -> Response:  # noqa: B008
    """Make a new secret to enrol (it works only once confirmed)."""
    if not user.totp_enabled:
        sealed = data_box(request).seal(totp.new_secret(), totp_context(user.user_id))
        await users(request).update(user.user_id, totp_secret_sealed=sealed, totp_last_step=None)
    return redirect("/security")


@router.post("/totp/confirm", dependencies=CSRF)
async def confirm(
    request: Request,
    code: CodeField,
    user: SignedIn = Depends(signed_in),  # noqa: B008
) -> Response:
    """Turn two-factor sign-in on with a code from the app."""
    found = await users(request).get(user.user_id)
    if found is None or found.totp_secret_sealed is None or found.totp_enabled:
        return redirect("/security")
    secret = data_box(request).open(found.totp_secret_sealed, totp_context(user.user_id))
    step = totp.matching_step(secret, code, runtime_of(request).clock())
    if step is None or not await users(request).use_totp_step(user.user_id, step):
        return await _page(request, user, error="That code is not right; enter the current one.")
    await users(request).update(user.user_id, totp_enabled=True)
    return await _page(request, user, notice="Two-factor sign-in is on.")


@router.post("/totp/disable", dependencies=CSRF)
async def disable(
    request: Request,
    password: PasswordField,
    code: CodeField,
    user: SignedIn = Depends(signed_in),  # noqa: B008
) -> Response:
    """Turn two-factor sign-in off (password and a current code)."""
    found = await users(request).get(user.user_id)
    if found is None or not found.totp_enabled or found.totp_secret_sealed is None:
        return redirect("/security")
    secret = data_box(request).open(found.totp_secret_sealed, totp_context(user.user_id))
    step = totp.matching_step(secret, code, runtime_of(request).clock())
    right = await check_password(found.password_hash, password)
    if not right or step is None or not await users(request).use_totp_step(user.user_id, step):
        return await _page(request, user, error="The password or the code is not right.")
    await users(request).update(user.user_id, totp_enabled=False, totp_secret_sealed=None)
    return await _page(request, user, notice="Two-factor sign-in is off.")


@router.post("/sessions/revoke", dependencies=CSRF)
async def revoke_everywhere(
    request: Request,
    user: SignedIn = Depends(signed_in),  # noqa: B008
) -> Response:
    """Sign out on every device, this one included."""
    await sessions(request).revoke_all(user.user_id)
    response = redirect("/login?notice=everywhere")
    without_session_cookie(request, response)
    return response

"""The web app's sign-up: ``POST /api/v1/signups`` with the sign-up credential (``ssu_…``).

That credential opens this route and nothing else; operator tokens and tenant API keys do
not open it.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request, status

from libs.common.api import answers
from libs.common.auth import api_key_from
from services.billing.api.deps import ServicesDep, services
from services.billing.schemas import SignupCreated, SignupSpec


async def require_signup_token(request: Request) -> None:
    """FastAPI dependency: refuse (401) anything but the configured sign-up credential."""
    if not services(request).signups.accepts(api_key_from(request) or ""):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="This needs the sign-up credential: send 'Authorization: Bearer ssu_…'.",
            headers={"WWW-Authenticate": "Bearer"},
        )


router = APIRouter(
    prefix="/api/v1",
    tags=["sign-up"],
    dependencies=[Depends(require_signup_token)],
    responses=answers(401, 503),
)


@router.post("/signups", status_code=status.HTTP_201_CREATED, responses=answers(409, 422))
async def sign_up(spec: SignupSpec, s: ServicesDep) -> SignupCreated:
    """Create a tenant on the sign-up plan with its first webhook and a ``web`` API key (or,
    for a ``signup_ref`` seen before, issue that tenant a new key and webhook token).
    """
    return await s.signups.sign_up(spec)

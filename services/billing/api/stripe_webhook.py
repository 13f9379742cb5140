"""Stripe's webhook: the signature is the authentication."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request, status

from libs.common.api import answers
from services.billing.api.deps import ServicesDep
from services.billing.payments import Receipt

router = APIRouter(tags=["stripe"])

MAX_BODY_BYTES = 512 * 1024  # Stripe's events are a few kilobytes


async def _body(request: Request) -> bytes:
    """Read the body, refusing one larger than any Stripe event before it fills memory."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise HTTPException(
                status_code=status.HTTP_413_CONTENT_TOO_LARGE,
                detail=f"A Stripe event is never larger than {MAX_BODY_BYTES // 1024} KiB.",
            )
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/billing/stripe/webhook", responses=answers(400, 413, 503))
async def stripe_webhook(
    request: Request,
    s: ServicesDep,
    stripe_signature: Annotated[str | None, Header()] = None,
) -> Receipt:
    """Apply a subscription event once; 400 if Stripe did not sign it recently."""
    return await s.payments.receive(await _body(request), stripe_signature)

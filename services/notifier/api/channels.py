"""The tenant API: ``/api/v1/notifications/channels…``. Tenant API-key auth (as the ledger);
every refusal in the common error shape."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Path, Request, status
from fastapi.responses import Response

from libs.common import api
from libs.common.api import FieldProblem
from libs.common.auth import CurrentTenant, api_key_from
from libs.common.db import install_outage_answers
from libs.common.ids import ULID_PATTERN
from services.notifier import manage
from services.notifier.errors import NotifierError
from services.notifier.runtime import Runtime
from services.notifier.schemas import (
    ChannelChange,
    ChannelCreated,
    ChannelOut,
    ChannelsOut,
    ChannelSpec,
    TestQueued,
    VerifyCode,
)
from services.notifier.store import channels as store

router = APIRouter(
    prefix="/api/v1/notifications", tags=["notifier"], responses=api.answers(401, 403, 503)
)
ChannelId = Annotated[str, Path(pattern=ULID_PATTERN, description="The channel's id.")]


def get_runtime(request: Request) -> Runtime:
    """Return the app's `Runtime` (set in the lifespan, or by a test)."""
    runtime: Runtime = request.app.state.runtime
    return runtime


Notifier = Annotated[Runtime, Depends(get_runtime)]


def caller_key(request: Request) -> str:
    """The API key the request was authenticated with (after `CurrentTenant`)."""
    return api_key_from(request) or ""


@router.get("/channels")
async def list_channels(tenant: CurrentTenant, rt: Notifier) -> ChannelsOut:
    """Your channels, oldest first, with their status (a dead one says why)."""
    async with rt.db.as_tenant(tenant.tenant_id) as conn:
        records = await store.list_channels(conn, tenant.tenant_id)
    return ChannelsOut(channels=[ChannelOut.of(r) for r in records])


@router.post("/channels", status_code=status.HTTP_201_CREATED, responses=api.answers(409, 422))
async def add_channel(
    spec: ChannelSpec, tenant: CurrentTenant, rt: Notifier, request: Request
) -> ChannelCreated:
    """Add a Discord, email or webhook channel; it receives a 6-digit code to verify it
    (409: that target is there already, or the kind is off on this deployment)."""
    added = await manage.add(rt, tenant.tenant_id, caller_key(request), spec)
    out = ChannelOut.of(added.record).model_dump()
    return ChannelCreated(**out, signing_secret=added.signing_secret)


@router.post("/channels/{channel_id}/verify", responses=api.answers(404, 409, 422))
async def verify_channel(
    channel_id: ChannelId, body: VerifyCode, tenant: CurrentTenant, rt: Notifier
) -> ChannelOut:
    """Turn a channel on with the code it received (422: wrong, expired, or no tries left)."""
    return ChannelOut.of(await manage.verify(rt, tenant.tenant_id, channel_id, body.code))


@router.patch("/channels/{channel_id}", responses=api.answers(404, 422))
async def change_channel(
    channel_id: ChannelId, body: ChannelChange, tenant: CurrentTenant, rt: Notifier
) -> ChannelOut:
    """Change which events a channel gets, quiet mode, the daily summary."""
    return ChannelOut.of(await manage.change(rt, tenant.tenant_id, channel_id, body))


@router.delete(
    "/channels/{channel_id}", status_code=status.HTTP_204_NO_CONTENT, responses=api.answers(404)
)
async def delete_channel(
    channel_id: ChannelId, tenant: CurrentTenant, rt: Notifier, request: Request
) -> Response:
    """Delete a channel; nothing more is sent to it."""
    await manage.delete(rt, tenant.tenant_id, caller_key(request), channel_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/channels/{channel_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    responses=api.answers(404, 409),
)
async def test_channel(channel_id: ChannelId, tenant: CurrentTenant, rt: Notifier) -> TestQueued:
    """Send a test message to an active channel."""
    return TestQueued(delivery_id=await manage.test(rt, tenant.tenant_id, channel_id))


async def _refused(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, NotifierError):
        raise exc
    problems = [FieldProblem(field=exc.field, message=exc.message)] if exc.field else []
    return api.error_response(exc.status, exc.message, errors=problems)


def install(app: FastAPI) -> None:
    """Add the routes; answer in the common error shape."""
    app.include_router(router)
    api.install_error_answers(app)
    install_outage_answers(app)
    app.add_exception_handler(NotifierError, _refused)

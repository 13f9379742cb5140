"""Every operator action lands in the audit log: a route class for the operator routers.

An action is a request that changes something (any method but GET), or a read of what sits
next to secrets (`AUDITED_READS`: token and key listings, the operators, the audit log
itself). Its entry names the operator the request authenticated as, the route's name, the
tenant and object from the path (or what the route noted: `note_target`), the request id
(``X-Request-ID`` if the caller sent a usable one, else a new ULID; answered in the same
header) and the status it was answered with. Requests no operator token authenticated are
not operator actions and leave no entry.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.routing import APIRoute

from libs.common.api import answers
from libs.common.ids import new_id
from services.billing.api.deps import require_operator, services, status_of
from services.billing.domain.operators import AuditEntry, Operator, Outcome

AUDITED_READS = frozenset({"list_webhooks", "list_api_keys", "list_operators", "read_audit"})
REQUEST_ID = "X-Request-ID"
_USABLE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_TARGETS = ("webhook_id", "key_id", "name")
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def note_target(
    request: Request, *, tenant_id: str | None = None, target: str | None = None
) -> None:
    """Name what a route created (not in its path) for its audit entry."""
    if tenant_id is not None:
        request.state.audit_tenant = tenant_id
    if target is not None:
        request.state.audit_target = target


class AuditedRoute(APIRoute):
    """A route whose actions are appended to the audit log once answered."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        if self.methods == {"GET"} and self.name not in AUDITED_READS:
            return handler

        async def audited(request: Request) -> Response:
            request_id = _request_id(request)
            try:
                response = await handler(request)
            except Exception as exc:
                await _append(request, self.name, request_id, status_of(exc))
                raise
            await _append(request, self.name, request_id, response.status_code)
            response.headers[REQUEST_ID] = request_id
            return response

        return audited


def _request_id(request: Request) -> str:
    given = request.headers.get(REQUEST_ID, "")
    return given if _USABLE_ID.fullmatch(given) else new_id()


async def _append(request: Request, action: str, request_id: str, status: int) -> None:
    operator: Operator | None = getattr(request.state, "operator", None)
    if operator is None:  # not authenticated: no operator acted
        return
    params = request.path_params
    target = next((str(params[k]) for k in _TARGETS if k in params), None)
    entry = AuditEntry(
        at=services(request).audit.now(),
        operator_id=operator.operator_id,
        operator=operator.name,
        action=action,
        method=request.method,
        tenant_id=getattr(request.state, "audit_tenant", None) or params.get("tenant_id"),
        target=getattr(request.state, "audit_target", None) or target,
        request_id=request_id,
        status=status,
        outcome=Outcome.of(status),
    )
    await services(request).audit.append(entry)


def operator_router() -> APIRouter:
    """Routes of the operator API: an operator's token required, every action audited."""
    return APIRouter(
        prefix="/api/v1",
        tags=["operator"],
        dependencies=[Depends(require_operator)],
        responses=answers(401, 503),
        route_class=AuditedRoute,
    )

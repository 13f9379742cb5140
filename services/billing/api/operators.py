"""Operator management and the audit log: who may operate Sparky, and what they did.

Operator tokens only, each action in the audit log; a new operator's token is in the creation
answer and nowhere else, ever.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Request, status

from libs.common.api import answers
from libs.common.ids import TenantId
from libs.common.messages.types import Iso8601, UtcDatetime
from services.billing.api.audited import note_target, operator_router
from services.billing.api.deps import CurrentOperator, ServicesDep
from services.billing.domain.operators import AuditQuery
from services.billing.operator_schemas import (
    NAME_PATTERN,
    AuditPage,
    OperatorCreated,
    OperatorSpec,
    OperatorView,
)

router = operator_router()
NamePath = Annotated[str, Path(pattern=NAME_PATTERN, description="The operator's name.")]
Since = Annotated[
    UtcDatetime | None,
    Iso8601,
    Query(alias="from", description="Entries at or after this time (with its UTC offset)."),
]
Until = Annotated[
    UtcDatetime | None,
    Iso8601,
    Query(alias="to", description="Entries before this time (with its UTC offset)."),
]


@router.post("/operators", status_code=status.HTTP_201_CREATED, responses=answers(409, 422))
async def create_operator(
    spec: OperatorSpec, me: CurrentOperator, s: ServicesDep, request: Request
) -> OperatorCreated:
    """Add an operator; the answer holds their token, shown this once."""
    created = await s.operators.create(spec, me)
    note_target(request, target=created.operator.name)
    return created


@router.get("/operators")
async def list_operators(
    s: ServicesDep,
    include_revoked: bool = False,  # noqa: FBT001, FBT002 - a query flag
) -> list[OperatorView]:
    """List the operators (tokens masked to their first 8 characters)."""
    return await s.operators.list(include_revoked=include_revoked)


@router.delete("/operators/{name}", responses=answers(404, 409, 422))
async def revoke_operator(name: NamePath, me: CurrentOperator, s: ServicesDep) -> OperatorView:
    """Revoke an operator (``bootstrap``: the configured token); refused for the last one."""
    return await s.operators.revoke(name, me)


@router.get("/audit", responses=answers(422))
async def read_audit(
    s: ServicesDep,
    *,
    operator: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
    tenant_id: TenantId | None = None,
    start: Since = None,
    end: Until = None,
    after: Annotated[
        int | None, Query(ge=0, description="`next_after` of the page before.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPage:
    """Read the operators' actions in the order they happened, with filters."""
    query = AuditQuery(
        operator=operator, tenant_id=tenant_id, start=start, end=end, after=after, limit=limit
    )
    return await s.audit.page(query)

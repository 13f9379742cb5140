"""What the operator-management API accepts and answers. A token appears only in
`OperatorCreated`, once.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from libs.common.messages.types import UtcDatetime
from services.billing import examples
from services.billing.domain.operators import BOOTSTRAP, Operator, Recorded
from services.billing.schemas import Answer, Request

NAME_PATTERN = r"^[a-z][a-z0-9._-]{0,63}$"
OperatorName = Annotated[
    str,
    Field(
        pattern=NAME_PATTERN,
        description="A person's name as operators are named: lower case, e.g. `ada.lovelace`.",
    ),
]


class OperatorSpec(Request):
    """A new operator: the person's name (unique among live operators; not `bootstrap`)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "ada.lovelace"}]})

    name: OperatorName


class OperatorView(Answer):
    """An operator as listings show it: never more of the token than its first 8 characters."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.OPERATOR]})

    operator_id: str
    name: str
    bootstrap: bool = Field(description="The configured token's operator.")
    prefix: str | None
    state: str = Field(description="`active` or `revoked`.")
    created_by: str | None
    created_at: UtcDatetime
    revoked_by: str | None
    revoked_at: UtcDatetime | None


class OperatorCreated(Answer):
    """An operator with their token, shown this once."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.OPERATOR_CREATED]})

    operator: OperatorView
    token: str


class AuditPage(Answer):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.AUDIT_PAGE]})
    entries: list[Recorded]
    next_after: int | None = Field(description="Pass as `after` for the next page.")


def operator_view(operator: Operator) -> OperatorView:
    """Show an operator (the token's first 8 characters at most)."""
    return OperatorView(
        operator_id=operator.operator_id,
        name=operator.name,
        bootstrap=operator.bootstrap,
        prefix=operator.prefix,
        state="revoked" if operator.revoked_at else "active",
        created_by=operator.created_by,
        created_at=operator.created_at,
        revoked_by=operator.revoked_by,
        revoked_at=operator.revoked_at,
    )


def reserved(name: str) -> bool:
    """Whether ``name`` is kept for the configured token's operator."""
    return name == BOOTSTRAP

"""The operators' use cases: authenticate a token, add, list and revoke people, and the audit
log of their actions (append and read).
"""

from __future__ import annotations

import hmac
import logging
from datetime import datetime

from pydantic import SecretStr

from libs.common.ids import new_id
from libs.common.records import secret_digest
from libs.common.redaction import OPERATOR_TOKEN_PREFIX
from services.billing.domain.credentials import shown_prefix
from services.billing.domain.operators import AuditEntry, AuditQuery, Operator, new_operator_token
from services.billing.errors import ConflictError, InvalidRequestError, NotFoundError
from services.billing.metrics import AUDIT_FAILURES
from services.billing.operator_schemas import (
    AuditPage,
    OperatorCreated,
    OperatorSpec,
    OperatorView,
    operator_view,
    reserved,
)
from services.billing.runtime import Runtime
from services.billing.store import operators as store

log = logging.getLogger(__name__)


class Operators:
    """Who may operate Sparky, each with a token of their own."""

    def __init__(self, rt: Runtime, bootstrap_token: SecretStr) -> None:
        self._rt = rt
        self._bootstrap = bootstrap_token

    async def authenticate(self, presented: str) -> Operator | None:
        """Return the live operator ``presented`` is the token of, or None."""
        if not presented.startswith(OPERATOR_TOKEN_PREFIX):
            return None
        configured = self._bootstrap.get_secret_value().encode()
        async with self._rt.engine.connect() as conn:
            if hmac.compare_digest(presented.encode(), configured):
                return await store.live_bootstrap(conn)
            return await store.live_by_digest(conn, secret_digest(presented))

    async def create(self, spec: OperatorSpec, by: Operator) -> OperatorCreated:
        """Add an operator; their token is in the answer, and nowhere else, ever."""
        if reserved(spec.name):
            raise InvalidRequestError(f"{spec.name!r} is the configured token's operator.")
        token = new_operator_token()
        operator = Operator(
            operator_id=new_id(),
            name=spec.name,
            digest=secret_digest(token),
            prefix=shown_prefix(token),
            created_by=by.name,
            created_at=self._rt.now(),
        )
        async with self._rt.engine.begin() as conn:
            await store.insert_operator(conn, operator)
        return OperatorCreated(operator=operator_view(operator), token=token)

    async def list(self, *, include_revoked: bool) -> list[OperatorView]:
        """List the operators, oldest first (tokens masked)."""
        async with self._rt.engine.connect() as conn:
            found = await store.list_operators(conn, include_revoked=include_revoked)
        return [operator_view(o) for o in found]

    async def revoke(self, name: str, by: Operator) -> OperatorView:
        """Revoke the live operator ``name``: their token is refused from the next request on.

        The last live operator cannot be revoked: nobody could operate Sparky any more.
        """
        now = self._rt.now()
        async with self._rt.engine.begin() as conn:
            operator = await store.live_by_name(conn, name, for_update=True)
            if operator is None:
                raise NotFoundError(f"There is no live operator named {name!r}.")
            if await store.count_live(conn) <= 1:
                raise ConflictError(f"{name!r} is the last operator; add another one first.")
            await store.revoke(conn, operator.operator_id, by.name, now)
        return operator_view(operator.model_copy(update={"revoked_at": now, "revoked_by": by.name}))


class AuditLog:
    """The append-only record of operator actions."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt

    def now(self) -> datetime:
        return self._rt.now()

    async def append(self, entry: AuditEntry) -> None:
        """Record ``entry``; if Postgres refuses, say so loudly (the action is done)."""
        try:
            async with self._rt.engine.begin() as conn:
                await store.append(conn, entry)
        except Exception:
            AUDIT_FAILURES.inc()
            log.exception(
                "operator action not recorded in the audit log",
                extra={"audit": entry.model_dump(mode="json")},
            )
            raise

    async def page(self, query: AuditQuery) -> AuditPage:
        """Return a page of entries in the order they were written."""
        async with self._rt.engine.connect() as conn:
            entries = await store.page(conn, query)
        full = len(entries) == query.limit
        return AuditPage(entries=entries, next_after=entries[-1].audit_id if full else None)

"""Giving a new user their tenant: billing's sign-up, then the key and webhook token sealed.

The user row comes first (without a tenant) and its id goes to billing as ``signup_ref``: a
sign-up whose answer is lost is simply sent again, at the next sign-up attempt or sign-in,
and billing finds the tenant it made instead of making another.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import httpx
from pydantic import BaseModel, ConfigDict

from libs.common.sealing import DataBox
from services.web.auth.users import User, Users
from services.web.config import WebSettings
from services.web.errors import ProvisioningError
from services.web.store import Database, webhook_tokens_kept
from services.web.tenant_keys import api_key_context, webhook_token_context

log = logging.getLogger(__name__)


class _Webhook(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str
    token: str
    url: str


class _Created(BaseModel):
    model_config = ConfigDict(extra="ignore")
    tenant_id: str
    api_key: str
    webhook: _Webhook


class Provisioner:
    """Call billing's sign-up for a user without a tenant; keep what it returns, sealed."""

    def __init__(
        self,
        settings: WebSettings,
        db: Database,
        users: Users,
        box: DataBox,
        clock: Callable[[], datetime],
    ) -> None:
        self._settings, self._db, self._users = settings, db, users
        self._box, self._clock = box, clock

    async def provision(self, http: httpx.AsyncClient, user: User) -> str:
        """Return ``user``'s tenant id, signing them up with billing if they have none."""
        if user.tenant_id is not None:
            return user.tenant_id
        created = await self._sign_up(http, user)
        sealed_key = self._box.seal(created.api_key, api_key_context(user.user_id))
        token_context = webhook_token_context(user.user_id, created.webhook.id)
        async with self._db.as_user(user.user_id) as conn:
            await conn.execute(
                webhook_tokens_kept.delete().where(webhook_tokens_kept.c.user_id == user.user_id)
            )
            await conn.execute(
                webhook_tokens_kept.insert().values(
                    user_id=user.user_id,
                    webhook_id=created.webhook.id,
                    token_sealed=self._box.seal(created.webhook.token, token_context),
                    kept_at=self._clock(),
                )
            )
        await self._users.update(
            user.user_id, tenant_id=created.tenant_id, api_key_sealed=sealed_key
        )
        return created.tenant_id

    async def _sign_up(self, http: httpx.AsyncClient, user: User) -> _Created:
        settings = self._settings
        body = {"name": user.name, "email": user.email, "signup_ref": user.user_id}
        headers = {"Authorization": f"Bearer {settings.signup_token.get_secret_value()}"}
        try:
            answer = await http.post(
                f"{settings.billing_url}/api/v1/signups", json=body, headers=headers
            )
        except httpx.HTTPError as exc:
            log.warning("billing's sign-up could not be reached: %s", type(exc).__name__)
            raise ProvisioningError("billing unreachable") from exc
        if answer.status_code != httpx.codes.CREATED:
            log.warning("billing refused a sign-up with %s", answer.status_code)
            raise ProvisioningError(f"billing answered {answer.status_code}")
        return _Created.model_validate_json(answer.content)

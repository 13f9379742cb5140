"""Tenant API-key authentication for every service's FastAPI routes.

Keys arrive as ``Authorization: Bearer <key>`` (or ``X-API-Key``) and are looked up by their
SHA-256 in in-memory copies of the ``api-keys`` and ``tenants`` buckets, so a check makes no
network call and a revoked key stops working as soon as the watch delivers the change. A copy
that has been out of touch with NATS for longer than its staleness bound may be missing a
revocation: then every key is refused with 503 (and ``Retry-After``) until it is back in touch.

Wire it once per app: ``app.state.authenticator = ApiKeyAuthenticator(api_keys, tenants)``,
then declare ``tenant: CurrentTenant`` on a route.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Protocol, TypeVar

from fastapi import Depends, HTTPException, Request, status

from libs.common.ids import TenantId
from libs.common.kv_mirror import DEFAULT_STALENESS_S, KVMirror
from libs.common.messages.types import utcnow
from libs.common.records import ApiKeyRecord, TenantRecord, secret_digest

if TYPE_CHECKING:
    from nats.aio.client import Client
    from nats.js import JetStreamContext

    from libs.common.topology import Topology

T_co = TypeVar("T_co", covariant=True)

OUT_OF_TOUCH = (
    "Sparky cannot confirm your credentials right now (this server has lost touch with its "
    "key store, so it may not know of a recent revocation); try again shortly."
)
OUT_OF_TOUCH_RETRY_AFTER_S = 5


class Lookup(Protocol[T_co]):
    """Anything with ``get(key)`` and a ``ready`` flag: a `KVMirror`, or a dict in unit tests."""

    @property
    def ready(self) -> bool: ...

    def get(self, key: str) -> T_co | None: ...


class WatchedLookup(Lookup[T_co], Protocol[T_co]):
    """A `Lookup` that also knows whether it is current: a `KVMirror`'s ``in_touch``."""

    @property
    def in_touch(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class AuthenticatedTenant:
    """Who is calling: the tenant and which of its keys it used."""

    tenant_id: TenantId
    key_id: str
    tenant: TenantRecord


class ApiKeyAuthenticator:
    """Decide whether an API key may act for its tenant."""

    def __init__(
        self,
        api_keys: WatchedLookup[ApiKeyRecord],
        tenants: WatchedLookup[TenantRecord],
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._api_keys = api_keys
        self._tenants = tenants
        self._clock = clock

    def authenticate(self, api_key: str | None) -> AuthenticatedTenant:
        """Return the caller, or raise 401 (no or unknown key), 403 (suspended) or 503 (the
        copies are not loaded yet, or out of touch for longer than their staleness bound).
        """
        if not (self._api_keys.ready and self._tenants.ready):
            raise _error(status.HTTP_503_SERVICE_UNAVAILABLE, "Starting up; try again shortly.")
        if not (self._api_keys.in_touch and self._tenants.in_touch):
            raise HTTPException(
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                detail=OUT_OF_TOUCH,
                headers={"Retry-After": str(OUT_OF_TOUCH_RETRY_AFTER_S)},
            )
        if not api_key:
            raise _unauthorized("An API key is required: send 'Authorization: Bearer <key>'.")
        record = self._api_keys.get(secret_digest(api_key))
        if record is None or not record.usable_at(self._clock()):
            raise _unauthorized("This API key is not valid (unknown, revoked or expired).")
        tenant = self._tenants.get(record.tenant_id)
        if tenant is None:
            raise _unauthorized("This API key's account no longer exists.")
        if not tenant.active:
            raise _error(status.HTTP_403_FORBIDDEN, "This account is suspended.")
        return AuthenticatedTenant(record.tenant_id, record.key_id, tenant)


def _error(code: int, detail: str) -> HTTPException:
    return HTTPException(status_code=code, detail=detail)


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


def api_key_from(request: Request) -> str | None:
    """Return the API key a request carries, if any."""
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.headers.get("x-api-key") or None


def current_tenant(request: Request) -> AuthenticatedTenant:
    """FastAPI dependency: the tenant the request's API key belongs to."""
    authenticator: ApiKeyAuthenticator = request.app.state.authenticator
    return authenticator.authenticate(api_key_from(request))


CurrentTenant = Annotated[AuthenticatedTenant, Depends(current_tenant)]


@asynccontextmanager
async def live_authenticator(
    nc: Client,
    js: JetStreamContext,
    topology: Topology,
    *,
    staleness_s: float = DEFAULT_STALENESS_S,
    clock: Callable[[], datetime] = utcnow,
) -> AsyncIterator[ApiKeyAuthenticator]:
    """Yield an authenticator over live copies of the api-keys and tenants buckets, kept by
    their watches while the block runs (the services that keep no other copies with them)."""
    keys = KVMirror(
        nc,
        await js.key_value(topology.api_keys_bucket),
        ApiKeyRecord.model_validate_json,
        staleness_s=staleness_s,
    )
    tenants = KVMirror(
        nc,
        await js.key_value(topology.tenants_bucket),
        TenantRecord.model_validate_json,
        staleness_s=staleness_s,
    )
    try:
        await keys.start()
        await tenants.start()
        yield ApiKeyAuthenticator(keys, tenants, clock=clock)
    finally:
        await keys.stop()
        await tenants.stop()

"""The web app speaks to billing, router, ledger, accounts and the notifier as the signed-in
tenant.

The app's one `httpx.AsyncClient` (``Runtime.http``); a `TenantApi` per request carries the
tenant's own API key (``Authorization: Bearer spk_…``), so a page reaches nothing another key
could not.
A refusal becomes `ApiError` with the service's sentence; a service that cannot be reached (or
answers 5xx) becomes `ServiceUnavailableError`, which the app shows as a 503 page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

import httpx
from fastapi import Depends, Request

from services.web.errors import ApiError, FieldError, ServiceUnavailableError
from services.web.runtime import runtime_of
from services.web.session import SignedIn, signed_in
from services.web.tenant_keys import tenant_api_key

Service = Literal["billing", "router", "ledger", "accounts", "notifier"]
SERVICES: tuple[Service, ...] = ("billing", "router", "ledger", "accounts", "notifier")
STREAM_TIMEOUT = httpx.Timeout(None, connect=3.0)


def _error_of(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return ApiError(response.status_code, f"The request was refused ({response.status_code}).")
    message = body.get("error") or body.get("detail") or "The request was refused."
    problems = [
        FieldError(str(p.get("field", "")), str(p.get("message", "")))
        for p in body.get("errors") or []
        if isinstance(p, dict)
    ]
    return ApiError(response.status_code, str(message), problems)


class TenantApi:
    """Calls to the services, as one tenant."""

    def __init__(self, client: httpx.AsyncClient, urls: Mapping[str, str], key: str) -> None:
        self._client = client
        self._urls = urls
        self._headers = {"Authorization": f"Bearer {key}"}

    def _url(self, service: Service, path: str) -> str:
        return self._urls[service].rstrip("/") + path

    async def request(
        self,
        method: str,
        service: Service,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        http_timeout: httpx.Timeout | None = None,
    ) -> httpx.Response:
        """Send one request; return the response when it succeeded (2xx). ``http_timeout``: a
        shorter one than the client's, for a call a page can do without."""
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        try:
            response = await self._client.request(
                method,
                self._url(service, path),
                params=clean,
                json=json,
                headers={**self._headers, **(headers or {})},
                timeout=http_timeout if http_timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.HTTPError as exc:
            raise ServiceUnavailableError(service) from exc
        if response.status_code >= 500:
            raise ServiceUnavailableError(service)
        if response.status_code >= 400:
            raise _error_of(response)
        return response

    async def get(
        self, service: Service, path: str, *, params: Mapping[str, Any] | None = None
    ) -> Any:
        """GET ``path`` and return its JSON."""
        return (await self.request("GET", service, path, params=params)).json()

    async def post(self, service: Service, path: str, *, json: Any = None) -> Any:
        return _json_or_none(await self.request("POST", service, path, json=json))

    async def put(
        self,
        service: Service,
        path: str,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        return _json_or_none(await self.request("PUT", service, path, json=json, headers=headers))

    async def patch(self, service: Service, path: str, *, json: Any = None) -> Any:
        return _json_or_none(await self.request("PATCH", service, path, json=json))

    async def delete(
        self, service: Service, path: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        await self.request("DELETE", service, path, headers=headers)

    @asynccontextmanager
    async def stream(
        self,
        service: Service,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[httpx.Response]:
        """Open a streamed GET (CSV, server-sent events); the body is read by the caller."""
        request = self._client.build_request(
            "GET",
            self._url(service, path),
            params={k: v for k, v in (params or {}).items() if v not in (None, "")},
            headers={**self._headers, **(headers or {})},
            timeout=STREAM_TIMEOUT,
        )
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise ServiceUnavailableError(service) from exc
        try:
            if response.status_code >= 500:
                raise ServiceUnavailableError(service)
            if response.status_code >= 400:
                await response.aread()
                raise _error_of(response)
            yield response
        finally:
            await response.aclose()


def _json_or_none(response: httpx.Response) -> Any:
    return response.json() if response.content else None


def service_urls(settings: Any) -> dict[str, str]:
    """The base URL of each service the pages call, from the web app's settings."""
    return {name: str(getattr(settings, f"{name}_url")) for name in SERVICES}


async def tenant_api(request: Request, me: Annotated[SignedIn, Depends(signed_in)]) -> TenantApi:
    """The signed-in tenant's `TenantApi`."""
    client: httpx.AsyncClient = runtime_of(request).http
    key = await tenant_api_key(request, me)
    return TenantApi(client, service_urls(runtime_of(request).settings), key)


Api = Annotated[TenantApi, Depends(tenant_api)]
Me = Annotated[SignedIn, Depends(signed_in)]

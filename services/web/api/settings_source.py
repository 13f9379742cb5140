"""Where the trade-settings form comes from: the router's ``/openapi.json``, read once per
process, read again after a failure (the router down, or a refusal that says the schema moved).
"""

from __future__ import annotations

import asyncio
import logging

import httpx
from fastapi import Request

from services.web.api.settings_schema import SchemaError, SettingField, layer_fields
from services.web.errors import ServiceUnavailableError
from services.web.runtime import runtime_of

log = logging.getLogger(__name__)
OK = 200


class SchemaSource:
    """The settings fields of the router's schema, cached until `forget`."""

    def __init__(self) -> None:
        self._fields: tuple[SettingField, ...] | None = None
        self._lock = asyncio.Lock()

    async def fields(self, client: httpx.AsyncClient, router_url: str) -> tuple[SettingField, ...]:
        """The fields, read from the router the first time (and after `forget`)."""
        if self._fields is None:
            async with self._lock:
                if self._fields is None:
                    self._fields = await _load(client, router_url)
        return self._fields

    def forget(self) -> None:
        """Read the schema again next time (the router refused what the form sent)."""
        self._fields = None


async def _load(client: httpx.AsyncClient, router_url: str) -> tuple[SettingField, ...]:
    try:
        response = await client.get(router_url.rstrip("/") + "/openapi.json")
    except httpx.HTTPError as exc:
        raise ServiceUnavailableError("router") from exc
    if response.status_code != OK:
        raise ServiceUnavailableError("router")
    try:
        return layer_fields(response.json())
    except (ValueError, SchemaError, KeyError, TypeError, AttributeError) as exc:
        log.warning("the router's schema has no settings body this app can read: %s", exc)
        raise ServiceUnavailableError("router") from exc


def schema_source(request: Request) -> SchemaSource:
    """The app's one `SchemaSource` (made at first use)."""
    state = request.app.state
    source: SchemaSource | None = getattr(state, "settings_schema", None)
    if source is None:
        source = state.settings_schema = SchemaSource()
    return source


async def settings_fields(request: Request) -> tuple[SettingField, ...]:
    """The fields of a trade-settings layer, as the router publishes them."""
    router_url = str(runtime_of(request).settings.router_url)
    return await schema_source(request).fields(runtime_of(request).http, router_url)

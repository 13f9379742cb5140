"""The router's schema is read once per process, and read again after a failure."""

from __future__ import annotations

from functools import cache
from typing import Any

import httpx
import pytest

from services.router.app import create_app
from services.router.config import RouterSettings
from services.web.api.settings_source import SchemaSource
from services.web.errors import ServiceUnavailableError

pytestmark = pytest.mark.unit
ROUTER = "http://router.test"


@cache
def router_document() -> dict[str, Any]:
    return create_app(RouterSettings()).openapi()


class Router:
    """Serves ``/openapi.json``, or fails with ``status``; counts the reads."""

    def __init__(self) -> None:
        self.reads = 0
        self.status = 200

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/openapi.json"
        self.reads += 1
        if self.status != 200:
            return httpx.Response(self.status, text="starting up")
        return httpx.Response(200, json=router_document())


async def test_the_schema_is_read_once_and_again_after_forget() -> None:
    router = Router()
    source = SchemaSource()
    async with httpx.AsyncClient(transport=httpx.MockTransport(router)) as client:
        first = await source.fields(client, ROUTER)
        assert await source.fields(client, ROUTER) is first
        assert router.reads == 1
        source.forget()
        assert [f.name for f in await source.fields(client, ROUTER)] == [f.name for f in first]
    assert router.reads == 2


@pytest.mark.parametrize("status", [503, 404])
async def test_a_router_that_cannot_answer_is_a_503_and_is_asked_again(status: int) -> None:
    router = Router()
    router.status = status
    source = SchemaSource()
    async with httpx.AsyncClient(transport=httpx.MockTransport(router)) as client:
        with pytest.raises(ServiceUnavailableError):
            await source.fields(client, ROUTER)
        router.status = 200
        assert any(f.name == "enabled" for f in await source.fields(client, ROUTER))
    assert router.reads == 2

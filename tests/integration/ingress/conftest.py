"""Ingress running in-process against the real NATS and Redis, in the test's namespace."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from nats.js import JetStreamContext

from services.ingress.config import IngressSettings
from tests.helpers.ingress import FakeClock, ingress_settings, serve_in_process
from tests.helpers.servers import ServerUrls


@pytest.fixture(autouse=True)
def _quiet_http_client() -> Iterator[None]:
    """httpx logs every request URL at INFO, and ours carry webhook tokens."""
    logger = logging.getLogger("httpx")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(namespace: str, server_urls: ServerUrls) -> IngressSettings:
    return ingress_settings(namespace, server_urls.nats, server_urls.redis)


@pytest.fixture
async def client(
    js: JetStreamContext, settings: IngressSettings, clock: FakeClock, redis_client: object
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a running ingress; the namespace's streams and Redis keys are cleaned up."""
    async with serve_in_process(settings, clock) as http:
        yield http

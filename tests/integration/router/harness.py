"""Names the router's integration tests share: timings, fixture types, the test API key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from libs.common.consumer import ConsumerPolicy
from services.router.config import RouterSettings
from services.router.runtime import RouterRuntime

FAST = ConsumerPolicy(
    ack_wait_s=2.0,
    max_deliver=4,
    batch_size=100,
    fetch_timeout_s=0.2,
    retry_initial_s=0.02,
    retry_max_s=0.2,
    give_up_after_s=1.0,
    unexpected_attempts=2,
    lag_poll_s=0.5,
)

SettingsFactory = Callable[..., RouterSettings]
Starter = Callable[..., Awaitable[RouterRuntime]]


API_KEY = "spk_" + "router" * 8


@dataclass(frozen=True)
class Api:
    """A started app: its HTTP client (with `API_KEY`) and its runtime."""

    client: httpx.AsyncClient
    runtime: RouterRuntime


ApiOpener = Callable[..., Awaitable[Api]]

"""The notifier as a process next to a running stack (`tests.helpers.stack.running_stack`).

`notifier_env` is what the notifier needs from a stack (the APIs it calls as the tenant,
its schema, small pools); `running_notifier` starts it on a free port with that and a
test's own settings (a bot token, the Telegram stand-in's URL), and stops it afterwards. The
stack's clean-up drops its schema and roles with the others (same prefix).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from scripts.devstack import ServiceProcess, Stack, StackConfig
from tests.helpers.ports import free_port

NAME = "notifier"


def notifier_env(cfg: StackConfig) -> dict[str, str]:
    """The notifier's ``SPARKY_NOTIFIER_*`` settings (without the prefix) in this stack."""
    return {
        "BILLING_URL": cfg.url("billing"),
        "ROUTER_URL": cfg.url("router"),
        "LEDGER_URL": cfg.url("ledger"),
        "INGRESS_URL": cfg.url("ingress"),
        "ACCOUNTS_URL": cfg.url("accounts"),
        "DATABASE_POOL_SIZE": "3",
    }


def with_notifier(cfg: StackConfig, env: Mapping[str, str]) -> StackConfig:
    """``cfg`` with a port for the notifier and its settings (the stack's first, then ``env``)."""
    port = cfg.ports.get(NAME) or free_port()
    extra = {**cfg.extra_env}
    extra[NAME] = {**notifier_env(cfg), **extra.get(NAME, {}), **env}
    return dataclasses.replace(cfg, ports={**cfg.ports, NAME: port}, extra_env=extra)


@asynccontextmanager
async def running_notifier(
    stack: Stack, env: Mapping[str, str] | None = None
) -> AsyncIterator[ServiceProcess]:
    """Run ``python -m services.notifier`` beside ``stack`` until the block ends."""
    process = ServiceProcess(NAME, with_notifier(stack.cfg, env or {}))
    await asyncio.to_thread(process.start)
    try:
        await asyncio.to_thread(process.wait_ready, 90.0)
        yield process
    finally:
        await asyncio.to_thread(process.stop)

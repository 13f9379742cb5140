"""The pipeline's end-to-end modules share one stack: every service, as `make run` starts them.

Starting the stack (nine processes and a NATS of its own) costs more than most of these
modules' tests; they need nothing of it but its defaults, so one stack serves the package and
each test isolates itself in tenants of its own (`tests.helpers.pipeline.provision`). A module
that needs other settings, or kills and restarts processes, stays outside this package with a
stack of its own (`tests/e2e/conftest.py`'s ``stack``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from scripts.devstack import SERVICES, Stack
from tests.helpers.namespaces import new_namespace
from tests.helpers.servers import ServerUrls
from tests.helpers.stack import running_stack
from tests.helpers.vault import VaultServer


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def stack(
    server_urls: ServerUrls, vault: VaultServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """Run every service in a namespace of the package's own (the web app and the notifier
    too: `test_metrics_exist` scrapes them all)."""
    data_dir = tmp_path_factory.mktemp("pipeline-stack")
    async with running_stack(server_urls, vault, new_namespace(), data_dir, SERVICES) as running:
        yield running

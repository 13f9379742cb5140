"""The stack of an end-to-end module with settings of its own: every service as a process.

The modules that run on the default settings share one stack (`tests/e2e/pipeline/`); a module
here that asks for ``stack`` gets one of its own, with its ``STACK_ENV``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from scripts.devstack import Stack
from tests.helpers.namespaces import new_namespace
from tests.helpers.servers import ServerUrls
from tests.helpers.stack import running_stack
from tests.helpers.vault import VaultServer


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(
    request: pytest.FixtureRequest,
    server_urls: ServerUrls,
    vault: VaultServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    """Run the whole stack in a namespace of the module's own; a module's ``STACK_ENV``
    (per service, e.g. ``{"paper": {"TAKER_FEE": "0"}}``) adds settings.
    """
    async with running_stack(
        server_urls,
        vault,
        new_namespace(),
        tmp_path_factory.mktemp("stack"),
        extra_env=getattr(request.module, "STACK_ENV", None),
    ) as running:
        yield running

"""Every API fuzzed against its own OpenAPI document, on the real stack (issue 15).

First, each running API must serve the document committed under docs/api/ (the unit test
`tests/unit/docs/test_openapi.py` compares the same files with apps built in-process).

Schemathesis reads each service's published ``/openapi.json`` and sends what it describes and
what it forbids (its examples, the boundaries of every schema, then random cases), as a tenant
and as the operator. Every answer is held to the document: never a 5xx, only documented
statuses, content types and headers, bodies of the documented schema. Operator calls that
destroy (delete, suspend, rotate…) aim at a throwaway tenant, never at the tenant whose key
makes the tenant calls; the paper exchange's fault injection is left out (answering 5xx is what
it is for). Each run is bounded by examples per operation and a time budget, so the module
stays within a few minutes on two cores.

A failure prints schemathesis's report: the request that broke the contract, as a curl
command, and the seed (``SPARKY_FUZZ_SEED=<seed>`` replays the same cases).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from scripts.devstack import Stack
from scripts.render_openapi import RENDER, ROOT, dumps, path_of
from tests.helpers import pipeline
from tests.helpers.billing import FakeStripe, served
from tests.helpers.e2e_alerts import api_client
from tests.helpers.namespaces import new_namespace
from tests.helpers.servers import ServerUrls
from tests.helpers.stack import PIPELINE, running_stack
from tests.helpers.vault import VaultServer

pytestmark = pytest.mark.asyncio(loop_scope="module")

HOOKS = Path(__file__).parent / "fuzz" / "hooks.py"
STRIPE_SECRET = "whsec_fuzz_0123456789"
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    )
)
# Random cases per operation, after its examples and the boundary cases of every schema
# (coverage phase). About 5 s a service here; a time budget is not used, because schemathesis
# then repeats the random phase until the budget is spent.
MAX_EXAMPLES = 30
# A failure found once is reproducible with its seed; a new seed each run explores further.
SEED = int(os.environ.get("SPARKY_FUZZ_SEED") or random.randrange(2**31))


@dataclass(frozen=True)
class World:
    """The running stack and who calls it."""

    stack: Stack
    caller: pipeline.Trader
    throwaway_tenant: str


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(
    server_urls: ServerUrls, vault: VaultServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    """The whole stack, with a (fake) Stripe so that no billing answer is "not configured"."""
    async with served(FakeStripe().app()) as stripe_url:
        stripe = {
            "STRIPE_API_KEY": "sk_test_fuzz",
            "STRIPE_API_BASE": stripe_url,
            "STRIPE_WEBHOOK_SECRET": STRIPE_SECRET,
            "STRIPE_PRICES": json.dumps({"price_pro": "pro", "price_basic": "basic"}),
        }
        async with running_stack(
            server_urls,
            vault,
            new_namespace(),
            tmp_path_factory.mktemp("fuzz"),
            (*PIPELINE, "notifier"),
            extra_env={"billing": stripe},
        ) as stack:
            async with api_client() as client:
                caller = await pipeline.provision(client, stack.cfg, "fuzz-caller")
                throwaway = await _tenant(client, stack, "fuzz-throwaway")
            yield World(stack, caller, throwaway)


async def _tenant(client: httpx.AsyncClient, stack: Stack, name: str) -> str:
    operator = {"Authorization": f"Bearer {stack.cfg.operator_token}"}
    url = f"{stack.cfg.url('billing')}/api/v1/tenants"
    created = await client.post(url, json={"name": name}, headers=operator)
    assert created.status_code == 201, created.text
    tenant_id: str = created.json()["tenant"]["tenant_id"]
    return tenant_id


async def fuzz(
    world: World,
    service: str,
    token: str,
    *,
    parameters: dict[str, str] | None = None,
    options: Sequence[str] = (),
) -> None:
    """Run schemathesis against ``service``'s OpenAPI with ``token``; fail with its report."""
    url = world.stack.cfg.url(service)
    config = world.stack.cfg.data_dir / f"fuzz-{service}-{len(options)}.toml"
    config.write_text(_toml(parameters or {}))
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        f"--config-file={config}",
        "--no-color",
        "run",
        f"{url}/openapi.json",
        f"--header=Authorization: Bearer {token}",
        f"--checks={CHECKS}",
        "--phases=examples,coverage,fuzzing",
        f"--max-examples={MAX_EXAMPLES}",
        f"--seed={SEED}",
        # One worker: threads trip CPython 3.11's AST recursion check in hypothesis.
        "--workers=1",
        "--request-timeout=10",
        "--suppress-health-check=all",
        *options,
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)}
    # A subprocess of this loop: the fake Stripe served by this loop must keep answering.
    process = await asyncio.create_subprocess_exec(
        *command,
        env=env,
        cwd=world.stack.cfg.data_dir,  # where schemathesis keeps its cache
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    report = output.decode(errors="replace")
    assert process.returncode == 0, f"{service} broke its contract (seed {SEED}):\n{report}"
    assert "No operations" not in report, report


def _toml(parameters: dict[str, str]) -> str:
    lines = ["[parameters]", *(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in parameters.items())]
    return "\n".join(lines) + "\n"


# The process of the stack serving each committed document (the executor's accounts role).
DOCUMENTED = {
    "billing": "billing",
    "executor": "accounts",
    "ingress": "ingress",
    "ledger": "ledger",
    "notifier": "notifier",
    "paper": "paper",
    "router": "router",
}


@pytest.mark.parametrize("service", sorted(DOCUMENTED))
async def test_each_running_api_serves_its_committed_document(world: World, service: str) -> None:
    async with api_client() as client:
        answer = await client.get(f"{world.stack.cfg.url(DOCUMENTED[service])}/openapi.json")
    assert answer.status_code == 200, answer.text
    committed = path_of(service)
    assert dumps(answer.json()) == committed.read_text(encoding="utf-8"), (
        f"{committed.relative_to(ROOT)} is not what the running {service} serves: run `{RENDER}`"
    )


async def test_ingress_keeps_its_contract_for_any_alert(world: World) -> None:
    caller = world.caller
    await fuzz(world, "ingress", caller.api_key, parameters={"path.token": caller.webhook_token})


async def test_billing_keeps_its_contract_for_the_operator(world: World) -> None:
    await fuzz(
        world,
        "billing",
        world.stack.cfg.operator_token,
        parameters={"path.tenant_id": world.throwaway_tenant},
        options=("--include-tag=operator", "--include-tag=stripe"),
    )


async def test_billing_keeps_its_contract_for_a_tenant(world: World) -> None:
    await fuzz(world, "billing", world.caller.api_key, options=("--include-tag=tenant",))


async def test_billing_keeps_its_contract_for_the_web_apps_sign_ups(world: World) -> None:
    await fuzz(world, "billing", world.stack.cfg.signup_token, options=("--include-tag=sign-up",))


# Endless by design (a live stream): its contract is tested in tests/integration/ledger.
ENDLESS = {"ledger": ("--exclude-operation-id=alert_stream_api_v1_alerts_stream_get",)}


@pytest.mark.parametrize("service", ["router", "accounts", "ledger", "notifier"])
async def test_a_tenant_api_keeps_its_contract(world: World, service: str) -> None:
    await fuzz(world, service, world.caller.api_key, options=ENDLESS.get(service, ()))


async def test_the_paper_exchange_keeps_its_contract(world: World) -> None:
    await fuzz(
        world,
        "paper",
        world.stack.cfg.paper_admin_token,
        options=("--exclude-operation-id=add_fault_admin_faults_post",),
    )

"""``python -m services.billing`` starts, serves the operator's ``sparkyctl``, logs no secret, and
stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from nats.js import JetStreamContext

from libs.common.records import secret_digest
from libs.common.topology import Topology
from scripts.devstack import ROOT, ServiceProcess
from tests.helpers.billing import OPERATOR_TOKEN
from tests.helpers.namespaces import PgSchema
from tests.helpers.servers import ServerUrls
from tests.helpers.stack import one_service


def run_billing(process: ServiceProcess) -> tuple[int | None, str, str]:
    """Start billing, create a tenant with the ``sparkyctl`` command, check its API key works,
    then SIGTERM; return the exit code, the webhook token and the API key.
    """
    process.start()
    try:
        process.wait_ready()
        # The operator's command's own settings: where billing is, and the operator token.
        cli = os.environ | {
            "SPARKY_BILLING_URL": process.url,
            "SPARKY_OPERATOR_TOKEN": OPERATOR_TOKEN,
        }
        created = subprocess.run(
            [sys.executable, "-m", "tools.sparkyctl", "tenant", "create", "Ada"],
            cwd=ROOT,
            env=cli,
            capture_output=True,
            check=True,
            timeout=30,
        )
        lines = dict(line.split(":", 1) for line in created.stdout.decode().splitlines())
        token = lines["webhook_url"].strip().rsplit("/", 1)[1]
        key = lines["api_key"].strip()
        me = httpx.get(f"{process.url}/api/v1/account", headers={"Authorization": f"Bearer {key}"})
        assert me.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(30)
    return code, token, key


async def test_the_service_runs_as_a_process_and_stops_on_sigterm(
    server_urls: ServerUrls,
    topology: Topology,
    pg_schema: PgSchema,
    js: JetStreamContext,
    tmp_path: Path,
) -> None:
    settings = {
        "database_url": pg_schema.url,
        "database_schema": pg_schema.name,
        "operator_token": OPERATOR_TOKEN,
    }
    process = one_service(
        "billing", tmp_path, settings, namespace=topology.namespace, urls=server_urls
    )
    code, token, key = await asyncio.to_thread(run_billing, process)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status says why.
    assert code in (0, -signal.SIGTERM)
    logged = process.log()
    assert "Application shutdown complete" in logged
    assert token not in logged
    assert key not in logged
    tokens = await js.key_value(topology.webhook_tokens_bucket)
    assert (await tokens.get(secret_digest(token))).value is not None

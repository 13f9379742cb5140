"""``python -m services.billing`` starts, serves the operator's ``sparkyctl``, logs no secret, and
stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from nats.js import JetStreamContext

from libs.common.records import secret_digest
from libs.common.topology import Topology
from tests.helpers.billing import OPERATOR_TOKEN, free_socket
from tests.helpers.namespaces import PgSchema
from tests.helpers.servers import ServerUrls

ROOT = Path(__file__).resolve().parents[3]


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, "billing exited during start-up"
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("billing did not become ready")


def run_billing(env: dict[str, str], url: str, log: Path) -> tuple[int, str, str]:
    """Start billing, create a tenant with ``sparkyctl``, check its API key works,
    then SIGTERM; return the exit code, the webhook token and the API key.
    """
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.billing"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
        try:
            wait_ready(url, proc)
            created = subprocess.run(
                [sys.executable, "-m", "tools.sparkyctl", "tenant", "create", "Ada"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                check=True,
                timeout=30,
            )
            lines = dict(line.split(":", 1) for line in created.stdout.decode().splitlines())
            token = lines["webhook_url"].strip().rsplit("/", 1)[1]
            key = lines["api_key"].strip()
            me = httpx.get(f"{url}/api/v1/account", headers={"Authorization": f"Bearer {key}"})
            assert me.status_code == 200
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(30)
    return code, token, key


async def test_the_service_runs_as_a_process_and_stops_on_sigterm(
    server_urls: ServerUrls,
    topology: Topology,
    pg_schema: PgSchema,
    js: JetStreamContext,
    tmp_path: Path,
) -> None:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "SPARKY_NAMESPACE": topology.namespace,
        "SPARKY_NATS_URL": server_urls.nats,
        "SPARKY_BILLING_HTTP_PORT": str(port),
        "SPARKY_BILLING_DATABASE_URL": pg_schema.url,
        "SPARKY_BILLING_DATABASE_SCHEMA": pg_schema.name,
        "SPARKY_BILLING_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "SPARKY_BILLING_URL": url,
        "SPARKY_OPERATOR_TOKEN": OPERATOR_TOKEN,
    }
    log = tmp_path / "billing.log"
    code, token, key = await asyncio.to_thread(run_billing, env, url, log)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status says why.
    assert code in (0, -signal.SIGTERM)
    logged = log.read_text()
    assert "Application shutdown complete" in logged
    assert token not in logged
    assert key not in logged
    tokens = await js.key_value(topology.webhook_tokens_bucket)
    assert (await tokens.get(secret_digest(token))).value is not None

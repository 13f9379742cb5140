"""``python -m services.ingress`` as deployed: it serves, logs JSON without tokens (every
refusal, successes sampled), carries trace ids without an exporter, stops on SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import httpx
from nats.js import JetStreamContext

from libs.common.topology import Topology
from tests.helpers.ingress import add_hook, alert_body, new_token, stored
from tests.helpers.polling import eventually
from tests.helpers.ports import free_port
from tests.helpers.servers import ServerUrls

ROOT = Path(__file__).resolve().parents[3]


async def test_access_logs_show_refusals_never_the_webhook_token_and_sample_successes(
    js: JetStreamContext,
    topology: Topology,
    server_urls: ServerUrls,
    redis_client: object,
) -> None:
    hook = await add_hook(js, topology)
    stranger = new_token()
    port = free_port()
    env = {
        **os.environ,
        "SPARKY_NAMESPACE": topology.namespace,
        "SPARKY_NATS_URL": server_urls.nats,
        "SPARKY_INGRESS_REDIS_URL": server_urls.redis,
        "SPARKY_INGRESS_RATE_LIMIT_KEY_PREFIX": f"{topology.namespace}:",
        "SPARKY_INGRESS_HTTP_PORT": str(port),
        "SPARKY_LOG_LEVEL": "INFO",
        "SPARKY_INGRESS_ACCESS_LOG_SAMPLE_RATIO": "0",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.ingress",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            await until_ready(client)
            accepted = await client.post(hook.path, content=alert_body())
            unknown = await client.post(f"/webhooks/tv/{stranger}", content=alert_body())
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 30)

    assert (accepted.status_code, unknown.status_code) == (202, 401)
    logs = (out + err).decode()
    leaked = hook.token in logs or stranger in logs
    assert not leaked, "a webhook token appears in the logs"  # a bool: no token in the report
    lines = [json.loads(line) for line in err.decode().splitlines()]
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    webhooks = [line for line in access if "/webhooks/tv/" in line["message"]]
    (refused,) = webhooks  # the 202 is left out of the sample (ratio 0), the 401 never is
    assert '"POST /webhooks/tv/[REDACTED] HTTP/1.1" 401' in refused["message"]
    assert len(refused["trace_id"]) == 32  # no exporter, yet a trace id to follow
    (intent,) = await stored(js, topology.intents_stream)
    assert "traceparent" in (intent.headers or {})  # the router's spans join the same trace
    assert "Application shutdown complete." in [line["message"] for line in lines]
    assert process.returncode in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it caught


async def until_ready(client: httpx.AsyncClient) -> None:
    await eventually(
        lambda: client.get("/readyz"),
        until=lambda answer: answer.status_code == 200,
        what="ingress ready",
        timeout_s=30,
        retry_on=(httpx.TransportError,),
    )

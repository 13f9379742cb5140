"""``python -m services.ingress`` as deployed: it serves, logs JSON without tokens (every
refusal, successes sampled), carries trace ids without an exporter, stops on SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import httpx
from nats.js import JetStreamContext

from libs.common.topology import Topology
from tests.helpers.ingress import add_hook, alert_body, new_token, stored
from tests.helpers.servers import ServerUrls
from tests.helpers.stack import one_service


async def test_access_logs_show_refusals_never_the_webhook_token_and_sample_successes(
    js: JetStreamContext,
    topology: Topology,
    server_urls: ServerUrls,
    redis_client: object,
    tmp_path: Path,
) -> None:
    hook = await add_hook(js, topology)
    stranger = new_token()
    process = one_service(
        "ingress",
        tmp_path,
        {"log_level": "INFO", "access_log_sample_ratio": 0},
        namespace=topology.namespace,
        urls=server_urls,
    )
    process.start()
    try:
        await asyncio.to_thread(process.wait_ready)
        async with httpx.AsyncClient(base_url=process.url) as client:
            accepted = await client.post(hook.path, content=alert_body())
            unknown = await client.post(f"/webhooks/tv/{stranger}", content=alert_body())
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(process.wait, 30)

    assert (accepted.status_code, unknown.status_code) == (202, 401)
    logs = process.log()
    leaked = hook.token in logs or stranger in logs
    assert not leaked, "a webhook token appears in the logs"  # a bool: no token in the report
    lines = [json.loads(line) for line in logs.splitlines()]
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    webhooks = [line for line in access if "/webhooks/tv/" in line["message"]]
    (refused,) = webhooks  # the 202 is left out of the sample (ratio 0), the 401 never is
    assert '"POST /webhooks/tv/[REDACTED] HTTP/1.1" 401' in refused["message"]
    assert len(refused["trace_id"]) == 32  # no exporter, yet a trace id to follow
    (intent,) = await stored(js, topology.intents_stream)
    assert "traceparent" in (intent.headers or {})  # the router's spans join the same trace
    assert "Application shutdown complete." in [line["message"] for line in lines]
    assert code in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it caught

"""When NATS or Redis is down: 503 and nothing stored, or alerts let through and counted."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import nats
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext

from libs.common.jetstream import ensure_topology
from libs.common.messages import OrderIntent
from libs.common.topology import Topology
from services.ingress.config import IngressSettings
from tests import factories
from tests.helpers.ingress import (
    add_hook,
    alert_body,
    serve_in_process,
    stored,
    until_known,
    until_status,
)
from tests.helpers.polling import eventually
from tests.helpers.ports import PrivateNats, free_port


@pytest.fixture
async def private_nats(tmp_path: Path) -> AsyncIterator[PrivateNats]:
    server = PrivateNats(tmp_path / "jetstream")
    server.start()
    yield server
    server.kill()


async def connect(server: PrivateNats, topology: Topology) -> Client:
    nc = await nats.connect(server.url, connect_timeout=5, max_reconnect_attempts=-1)
    await ensure_topology(nc.jetstream(), topology)
    return nc


async def test_while_nats_is_down_alerts_get_503_and_none_is_stored_behind_our_back(
    private_nats: PrivateNats,
    topology: Topology,
    settings: IngressSettings,
    redis_client: object,
) -> None:
    nc = await connect(private_nats, topology)
    hook = await add_hook(nc.jetstream(), topology)
    await nc.close()
    on_private = settings.model_copy(
        update={"nats_url": private_nats.url, "publish_timeout_s": 0.5}
    )
    async with serve_in_process(on_private) as client:
        await until_known(client, hook)
        before = await client.post(hook.path, content=alert_body(id="before"))

        private_nats.kill()
        await until_readiness(client, 503)
        during = await client.post(hook.path, content=alert_body(id="during"))

        private_nats.start()
        await until_status(client, hook.path, 202, body=alert_body(id="after"), timeout_s=20)

    assert (before.status_code, during.status_code) == (202, 503)
    assert "will resend" in during.json()["error"]
    nc = await connect(private_nats, topology)
    intents = [
        OrderIntent.model_validate_json(m.data or b"")
        for m in await stored(nc.jetstream(), topology.intents_stream)
    ]
    await nc.close()
    assert [i.alert.sender_id for i in intents] == ["before", "after"]


async def until_readiness(client: httpx.AsyncClient, status: int) -> None:
    async def answer() -> int:
        return (await client.get("/readyz")).status_code

    await eventually(answer, until=lambda got: got == status, what=f"/readyz answering {status}")


async def test_with_redis_down_alerts_are_let_through_and_counted(
    js: JetStreamContext, topology: Topology, settings: IngressSettings
) -> None:
    tenant = factories.tenant_record(limits=factories.plan_limits(max_alerts_per_hour=1))
    hook = await add_hook(js, topology, tenant=tenant)
    no_redis = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    async with serve_in_process(no_redis) as client:
        await until_known(client, hook)
        before = bypassed((await client.get("/metrics")).text)
        codes = [
            (await client.post(hook.path, content=alert_body(id=str(i)))).status_code
            for i in range(3)
        ]
        after = bypassed((await client.get("/metrics")).text)

    assert codes == [202, 202, 202]  # over the plan's 1 per hour, but Redis cannot tell
    assert after - before == 3


def bypassed(metrics: str) -> float:
    name = "sparky_ingress_rate_limit_bypassed_total"
    return float(next(x for x in metrics.splitlines() if x.startswith(name)).split()[-1])


@pytest.fixture
def private_redis() -> Iterator[tuple[list[subprocess.Popen[bytes]], int]]:
    port = free_port()
    processes: list[subprocess.Popen[bytes]] = []
    yield processes, port
    for process in processes:
        process.kill()
        process.wait(timeout=10)


async def start_redis(processes: list[subprocess.Popen[bytes]], port: int) -> None:
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    processes.append(subprocess.Popen(args, stdout=subprocess.DEVNULL))  # noqa: ASYNC220 - no wait

    async def accepting() -> bool:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()
        await writer.wait_closed()
        return True

    await eventually(accepting, what="the private redis-server accepting", retry_on=(OSError,))


async def test_when_redis_comes_back_the_limit_applies_again(
    js: JetStreamContext,
    topology: Topology,
    settings: IngressSettings,
    private_redis: tuple[list[subprocess.Popen[bytes]], int],
) -> None:
    processes, port = private_redis
    await start_redis(processes, port)
    tenant = factories.tenant_record(limits=factories.plan_limits(max_alerts_per_hour=1))
    hook = await add_hook(js, topology, tenant=tenant)
    own_redis = settings.model_copy(
        update={"redis_url": f"redis://127.0.0.1:{port}/0", "redis_retry_after_failure_s": 0.2}
    )
    async with serve_in_process(own_redis) as client:
        await until_known(client, hook)

        async def post(alert_id: str) -> int:
            return (await client.post(hook.path, content=alert_body(id=alert_id))).status_code

        limited = [await post("1"), await post("2")]
        stopped = processes.pop()
        stopped.kill()
        stopped.wait(timeout=10)
        while_down = await post("3")
        await start_redis(processes, port)
        # Past the pause after a failure: a timer inside ingress, and posting to see whether
        # it is over would spend the very alerts the test counts.
        await asyncio.sleep(0.3)
        back = [await post("4"), await post("5")]

    assert limited == [202, 429]
    assert while_down == 202
    assert back == [202, 429]  # the restarted Redis starts empty: one alert, then the limit


async def test_an_intent_accepted_event_nats_refuses_is_counted_and_the_alert_still_202(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology
) -> None:
    hook = await add_hook(js, topology)
    await until_known(client, hook)
    await js.delete_stream(topology.events_stream)  # the event has nowhere to go
    before = failures((await client.get("/metrics")).text)

    answer = await client.post(hook.path, content=alert_body())

    assert answer.status_code == 202
    assert len(await stored(js, topology.intents_stream)) == 1

    async def counted() -> float:
        return failures((await client.get("/metrics")).text)

    await eventually(
        counted, until=lambda n: n == before + 1, what="the refused IntentAccepted counted"
    )


def failures(metrics: str) -> float:
    series = "sparky_ingress_accepted_event_failures_total "
    return float(next(x for x in metrics.splitlines() if x.startswith(series)).split()[-1])

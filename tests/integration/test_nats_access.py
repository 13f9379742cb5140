"""NATS itself refuses what `libs.common.nats_access` does not grant: a real nats-server with
the generated users and permissions, each service's identity trying what it must not.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import nats.errors
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg

from libs.common.config import ServiceSettings
from libs.common.consumer import BatchConsumer, BatchSpec
from libs.common.jetstream import ensure_topology
from libs.common.kv_mirror import KVMirror
from libs.common.nats_access import (
    ADMIN,
    SERVICES,
    USERS,
    connect_options,
    server_config,
)
from libs.common.topology import Topology
from tests import factories
from tests.helpers.polling import eventually
from tests.helpers.ports import PrivateNats

TOPOLOGY = Topology(namespace="acl", partitions=4)
PASSWORDS = {user: f"{user}-password-for-tests" for user in USERS}
TENANT = "t_acl_1"
REFUSAL_WAIT_S = 1.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateNats]:
    store = tmp_path_factory.mktemp("nats-access") / "store"
    private = PrivateNats(Path(store), server_config(TOPOLOGY, PASSWORDS))
    private.start()
    asyncio.run(_create_topology(private))
    yield private
    private.stop()


class Session:
    """One identity's connection, with the server's refusals it was sent."""

    def __init__(self) -> None:
        self.nc: Client | None = None
        self.errors: list[str] = []

    @property
    def client(self) -> Client:
        assert self.nc is not None
        return self.nc

    async def refused(self, subject: str) -> bool:
        """Wait for the server to refuse this identity ``subject``; fail if it does not."""
        return await eventually(
            lambda: any("permissions violation" in e and subject.lower() in e for e in self.errors),
            what=f"the server refusing {subject}",
            timeout_s=REFUSAL_WAIT_S,
            interval_s=0.02,
        )


@contextlib.asynccontextmanager
async def connected(server: PrivateNats, user: str) -> AsyncIterator[Session]:
    session = Session()

    async def on_error(exc: Exception) -> None:
        session.errors.append(str(exc).lower())

    settings = ServiceSettings(nats_user=user, nats_password=PASSWORDS[user])  # type: ignore[arg-type]
    session.nc = await nats.connect(
        server.url,
        error_cb=on_error,
        allow_reconnect=False,
        **connect_options(settings, user),
    )
    try:
        yield session
    finally:
        await session.nc.close()


async def _create_topology(server: PrivateNats) -> None:
    async with connected(server, ADMIN) as admin:
        await ensure_topology(admin.client.jetstream(), TOPOLOGY)


async def _publish(session: Session, subject: str) -> bool:
    """Publish to a stream as ``session``; return whether JetStream stored it."""
    try:
        await session.client.jetstream(timeout=REFUSAL_WAIT_S).publish(subject, b"{}")
    except nats.errors.Error:
        return False
    return True


FORBIDDEN_PUBLISHES = [
    ("ingress", TOPOLOGY.order_subject(TENANT)),  # skipping the router
    ("ingress", TOPOLOGY.event_subject(TENANT, "order.filled")),
    ("ingress", TOPOLOGY.event_subject(TENANT, "intent.rejected")),
    ("router", TOPOLOGY.event_subject(TENANT, "alert.refused")),
    ("router", TOPOLOGY.intent_subject(TENANT)),
    ("router", TOPOLOGY.event_subject(TENANT, "order.filled")),
    ("executor", TOPOLOGY.order_subject(TENANT)),
    ("executor", TOPOLOGY.intent_subject(TENANT)),
    ("executor", TOPOLOGY.event_subject(TENANT, "intent.accepted")),
    ("accounts", TOPOLOGY.order_subject(TENANT)),  # the internet-facing accounts API
    ("accounts", TOPOLOGY.event_subject(TENANT, "tenant.deleted")),
    ("ledger", TOPOLOGY.intent_subject(TENANT)),
    ("ledger", TOPOLOGY.event_subject(TENANT, "order.filled")),
    ("billing", TOPOLOGY.order_subject(TENANT)),
    ("billing", TOPOLOGY.intent_subject(TENANT)),
    ("billing", TOPOLOGY.event_subject(TENANT, "settings.kill_switch")),
    ("router", TOPOLOGY.event_subject(TENANT, "billing.payment_failed")),
    ("executor", TOPOLOGY.event_subject(TENANT, "settings.kill_switch")),
    ("notifier", TOPOLOGY.event_subject(TENANT, "order.filled")),
    ("notifier", TOPOLOGY.event_subject(TENANT, "settings.kill_switch")),
    ("notifier", TOPOLOGY.event_subject(TENANT, "billing.grace_ending")),
    ("notifier", TOPOLOGY.intent_subject(TENANT)),
    ("notifier", TOPOLOGY.order_subject(TENANT)),
]


@pytest.mark.parametrize(("user", "subject"), FORBIDDEN_PUBLISHES)
async def test_a_publish_outside_the_contracts_is_refused_by_the_server(
    server: PrivateNats, user: str, subject: str
) -> None:
    async with connected(server, user) as session:
        assert not await _publish(session, subject)
        assert await session.refused(subject)


FORBIDDEN_KV_WRITES = [
    ("ingress", TOPOLOGY.api_keys_bucket),  # minting keys
    ("ingress", TOPOLOGY.tenants_bucket),  # lifting limits, un-suspending
    ("ingress", TOPOLOGY.webhook_tokens_bucket),
    ("router", TOPOLOGY.api_keys_bucket),
    ("router", TOPOLOGY.tenants_bucket),
    ("executor", TOPOLOGY.tenants_bucket),
    ("accounts", TOPOLOGY.api_keys_bucket),
    ("ledger", TOPOLOGY.accounts_bucket),
    ("billing", TOPOLOGY.accounts_bucket),
    ("notifier", TOPOLOGY.api_keys_bucket),
    ("notifier", TOPOLOGY.tenants_bucket),
]


@pytest.mark.parametrize(("user", "bucket"), FORBIDDEN_KV_WRITES)
async def test_a_kv_write_outside_the_contracts_is_refused_by_the_server(
    server: PrivateNats, user: str, bucket: str
) -> None:
    async with connected(server, user) as session:
        assert not await _publish(session, f"$KV.{bucket}.{TENANT}")
        assert await session.refused(f"$KV.{bucket}.{TENANT}")
    async with connected(server, ADMIN) as admin:
        kv = await admin.client.jetstream().key_value(bucket)
        assert (await kv.status()).values == 0


@pytest.mark.parametrize("user", SERVICES)
async def test_no_service_may_delete_or_purge_a_stream(server: PrivateNats, user: str) -> None:
    async with connected(server, user) as session:
        js = session.client.jetstream(timeout=REFUSAL_WAIT_S)
        with pytest.raises(nats.errors.Error):
            await js.delete_stream(TOPOLOGY.orders_stream)
        with pytest.raises(nats.errors.Error):
            await js.purge_stream(TOPOLOGY.intents_stream)
        assert await session.refused(f"$JS.API.STREAM.DELETE.{TOPOLOGY.orders_stream}")


async def test_no_service_may_listen_to_another_ones_replies_or_to_orders(
    server: PrivateNats,
) -> None:
    async with connected(server, "ingress") as session:
        await session.client.subscribe("_INBOX_executor.>")
        await session.client.subscribe(TOPOLOGY.order_subject(TENANT))
        await session.client.flush()
        assert await session.refused("_INBOX_executor.>")
        assert await session.refused(TOPOLOGY.order_subject(TENANT))


async def test_an_unknown_user_or_a_wrong_password_cannot_connect(server: PrivateNats) -> None:
    for options in ({}, {"user": "ingress", "password": "wrong"}):
        with pytest.raises((nats.errors.Error, OSError)):
            await nats.connect(
                server.url, allow_reconnect=False, max_reconnect_attempts=0, **options
            )


ALLOWED = [
    ("ingress", TOPOLOGY.intent_subject(TENANT)),
    ("ingress", TOPOLOGY.event_subject(TENANT, "intent.accepted")),
    ("ingress", TOPOLOGY.event_subject(TENANT, "alert.refused")),
    ("router", TOPOLOGY.order_subject(TENANT)),
    ("router", TOPOLOGY.event_subject(TENANT, "intent.rejected")),
    ("executor", TOPOLOGY.event_subject(TENANT, "order.filled")),
    ("executor", f"$KV.{TOPOLOGY.accounts_bucket}.{TENANT}"),
    ("accounts", f"$KV.{TOPOLOGY.accounts_bucket}.{TENANT}"),
    ("ledger", TOPOLOGY.order_subject(TENANT)),  # cancels; the executor checks who signed
    ("billing", TOPOLOGY.event_subject(TENANT, "tenant.deleted")),
    ("billing", TOPOLOGY.event_subject(TENANT, "billing.payment_failed")),
    ("billing", TOPOLOGY.event_subject(TENANT, "billing.grace_ending")),
    ("router", TOPOLOGY.event_subject(TENANT, "settings.kill_switch")),
    ("billing", f"$KV.{TOPOLOGY.api_keys_bucket}.{TENANT}"),
    ("billing", f"$KV.{TOPOLOGY.tenants_bucket}.{TENANT}"),
]


@pytest.mark.parametrize(("user", "subject"), ALLOWED)
async def test_what_the_contracts_grant_goes_through(
    server: PrivateNats, user: str, subject: str
) -> None:
    async with connected(server, user) as session:
        assert await _publish(session, subject)
        assert not session.errors


async def test_a_reader_mirrors_its_buckets_and_the_router_keeps_its_own(
    server: PrivateNats,
) -> None:
    async with connected(server, "ingress") as ingress, connected(server, "router") as router:
        js = ingress.client.jetstream()
        mirror = KVMirror(ingress.client, await js.key_value(TOPOLOGY.tenants_bucket), bytes)
        try:
            await mirror.start(timeout_s=5)
            started = mirror.last_contact_monotonic
            await eventually(  # the bucket is quiet: only a liveness check makes contact
                lambda: mirror.last_contact_monotonic > started,
                what="a liveness check of the watch's consumer",
            )
            assert mirror.in_touch
        finally:
            await mirror.stop()
        settings = await router.client.jetstream().create_key_value(
            bucket=TOPOLOGY.router_settings_bucket
        )
        await settings.put(TENANT, b"v1")
        assert not ingress.errors
        assert not router.errors


async def test_the_notifier_consumes_events_through_its_own_durable_and_no_other(
    server: PrivateNats,
) -> None:
    received: list[bytes] = []
    arrived = asyncio.Event()

    async def handle(batch: list[Msg]) -> None:  # earlier tests' events come first
        received.extend(m.data for m in batch)
        if event.to_json() in received:
            arrived.set()

    event = factories.kill_switch_changed(TENANT)
    async with connected(server, ADMIN) as admin:
        subject = TOPOLOGY.event_subject(TENANT, event.kind)
        await admin.client.jetstream().publish(subject, event.to_json())
    async with connected(server, "notifier") as notifier:
        js = notifier.client.jetstream(timeout=REFUSAL_WAIT_S)
        spec = BatchSpec(
            service="notifier",
            stream=TOPOLOGY.events_stream,
            durable="notifier",
            filter_subject=TOPOLOGY.events_filter,
            handler=handle,
            deadletter_subject=TOPOLOGY.deadletter_subject("events"),
        )
        consumer = BatchConsumer(js, spec)
        await consumer.start()
        try:
            await asyncio.wait_for(arrived.wait(), timeout=10)
        finally:
            await consumer.stop()
        mirror = KVMirror(notifier.client, await js.key_value(TOPOLOGY.api_keys_bucket), bytes)
        try:
            await mirror.start(timeout_s=5)
        finally:
            await mirror.stop()
        assert not notifier.errors
        with pytest.raises(nats.errors.Error):
            await js.add_consumer(TOPOLOGY.events_stream, durable_name="ledger")
        with pytest.raises(nats.errors.Error):
            await js.delete_consumer(TOPOLOGY.events_stream, "billing-usage")
        with pytest.raises(nats.errors.Error):
            await js.add_consumer(TOPOLOGY.orders_stream, durable_name="notifier")
        assert await notifier.refused(
            f"$JS.API.CONSUMER.DURABLE.CREATE.{TOPOLOGY.events_stream}.ledger"
        )


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 signed by it (openssl): CA, cert, key."""
    ca_key, ca, key, csr, cert = (
        folder / n for n in ("ca.key", "ca.pem", "s.key", "s.csr", "s.pem")
    )
    ext = folder / "san.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1\n")
    for command in (
        f"req -x509 -newkey rsa:2048 -nodes -keyout {ca_key} -out {ca} -days 1 -subj /CN=test-ca",
        f"req -newkey rsa:2048 -nodes -keyout {key} -out {csr} -subj /CN=127.0.0.1",
        f"x509 -req -in {csr} -CA {ca} -CAkey {ca_key} -CAcreateserial -out {cert} -days 1 "
        f"-extfile {ext}",
    ):
        subprocess.run(["openssl", *command.split()], check=True, capture_output=True)
    return ca, cert, key


async def test_a_service_reaches_nats_over_tls_with_the_ca_it_is_given(tmp_path: Path) -> None:
    ca, cert, key = _certificates(tmp_path)
    tls = f'tls {{\n  cert_file: "{cert}"\n  key_file: "{key}"\n}}\n'
    server = PrivateNats(tmp_path / "store", server_config(TOPOLOGY, PASSWORDS) + tls)
    await asyncio.to_thread(server.start)
    try:
        url = f"tls://127.0.0.1:{server.port}"
        settings = ServiceSettings(
            nats_url=url,
            nats_user="ingress",
            nats_password=PASSWORDS["ingress"],  # type: ignore[arg-type]
            nats_ca_file=str(ca),
        )
        nc = await nats.connect(url, allow_reconnect=False, **connect_options(settings, "ingress"))
        try:
            assert nc.is_connected
            assert nc.connected_url is not None
            assert nc.connected_url.scheme == "tls"
        finally:
            await nc.close()
        without_ca = ServiceSettings(nats_user="ingress", nats_password=PASSWORDS["ingress"])  # type: ignore[arg-type]
        with pytest.raises((nats.errors.Error, OSError, ssl.SSLError)):
            await nats.connect(
                url,
                allow_reconnect=False,
                max_reconnect_attempts=0,
                connect_timeout=3,
                tls=ssl.create_default_context(),  # the system's CAs do not know this one
                **{k: v for k, v in connect_options(without_ca, "ingress").items() if k != "tls"},
            )
    finally:
        await asyncio.to_thread(server.stop)

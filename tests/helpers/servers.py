"""Where the test servers are: the machine's own by default, containers only when asked."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

CONTAINERS_ENV = "SPARKY_TEST_CONTAINERS"


@dataclass(frozen=True)
class ServerUrls:
    """Connection URLs of the real servers the integration tests use."""

    nats: str
    redis: str
    postgres: str  # plain libpq form: postgresql://user@host:port/db

    @property
    def postgres_asyncpg(self) -> str:
        """The SQLAlchemy URL of the same database."""
        return self.postgres.replace("postgresql://", "postgresql+asyncpg://", 1)


def urls_from_env() -> ServerUrls:
    """Read the servers' URLs from the environment, defaulting to the local standard ports."""
    return ServerUrls(
        nats=os.environ.get("SPARKY_TEST_NATS_URL", "nats://127.0.0.1:4222"),
        redis=os.environ.get("SPARKY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        postgres=os.environ.get(
            "SPARKY_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )


def containers_requested() -> bool:
    """Whether the developer asked for testcontainers (and Docker is there to run them)."""
    if os.environ.get(CONTAINERS_ENV, "") not in {"1", "true", "yes"}:
        return False
    docker = shutil.which("docker")
    if docker is None:
        return False
    probe = subprocess.run([docker, "info"], capture_output=True, check=False, timeout=20)
    return probe.returncode == 0


@contextmanager
def container_urls() -> Iterator[ServerUrls]:
    """Start NATS (JetStream), Redis and Postgres containers; yield their URLs."""
    # Imported here: the Docker SDK is only needed on the opt-in container path.
    from testcontainers.core.container import DockerContainer  # noqa: PLC0415
    from testcontainers.postgres import PostgresContainer  # noqa: PLC0415
    from testcontainers.redis import RedisContainer  # noqa: PLC0415

    with ExitStack() as stack:
        pg = stack.enter_context(PostgresContainer("postgres:16-alpine", driver=None))
        rd = stack.enter_context(RedisContainer("redis:7-alpine"))
        nats = stack.enter_context(
            DockerContainer("nats:2.10-alpine").with_command("-js").with_exposed_ports(4222)
        )
        yield ServerUrls(
            nats=f"nats://{nats.get_container_host_ip()}:{nats.get_exposed_port(4222)}",
            redis=f"redis://{rd.get_container_host_ip()}:{rd.get_exposed_port(6379)}/0",
            postgres=pg.get_connection_url(),
        )

"""A Postgres cluster of the test's own (never the shared one), to stop, crash and restart.

It runs the binaries of the ``pgserver`` wheel through ``pg_ctl``, listening on 127.0.0.1 on a
free port. Postgres refuses to run as root, so when the tests run as root the cluster belongs
to, and runs as, the system user ``pgserver`` (the user pgserver itself creates for this), as
pgserver's own `PostgresServer` does.

The cluster lives in a fresh folder of the system's temporary directory, removed afterwards,
not under pytest's ``tmp_path``: pytest makes ``/tmp/pytest-of-<user>`` private (0700) again
whenever a session starts, which would lock the ``pgserver`` user out of its own cluster in
the middle of a test as soon as another pytest run starts on the machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scripts.local_postgres import RUN_AS, SUPERUSER, ensure_system_user, pg_bin
from tests.helpers.ports import free_port


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """Create and start a cluster in a fresh folder; stop it and delete the folder afterwards."""
    server = PrivatePostgres(Path(tempfile.mkdtemp(prefix="sparky-test-postgres-")))
    try:
        server.init()
        server.start()
        yield server
    finally:
        try:
            if (server.home / "postmaster.pid").exists():
                server.stop("immediate")
        finally:
            shutil.rmtree(server.root, ignore_errors=True)


class PrivatePostgres:
    """``pg_ctl`` on a cluster in ``root``: trust authentication, superuser ``postgres``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "data"
        self.port = free_port()
        self.run_as = RUN_AS if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        """The libpq URL of the cluster's ``postgres`` database."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    @property
    def log_path(self) -> Path:
        return self.root / "postgres.log"

    def init(self) -> None:
        """Create the cluster, owned by the user it runs as."""
        if self.run_as is not None:
            user = ensure_system_user(self.run_as)
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", str(self.home), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8")

    def start(self) -> None:
        """Start the server (again, on the same port and data) and wait until it accepts."""
        options = f"-h 127.0.0.1 -p {self.port} -k '' -c max_connections=200 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.home), "-l", str(self.log_path), "-o", options,
                  "-w", "-t", "60", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: ``fast`` ends every session cleanly, ``immediate`` is a crash."""
        self._run("pg_ctl", "-D", str(self.home), "-m", mode, "-w", "-t", "60", "stop")

    def _run(self, binary: str, *args: str) -> None:
        done = subprocess.run(
            [str(pg_bin() / binary), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=90,
            user=self.run_as,
            group=self.run_as,
            extra_groups=[] if self.run_as else None,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{binary} {args[-1]} failed ({done.returncode}):\n{done.stdout}{done.stderr}\n"
                f"{self._log_tail()}"
            )

    def _log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

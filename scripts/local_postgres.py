"""A Postgres cluster of `make run`'s own, from the binaries of the ``pgserver`` wheel.

pgserver's own `get_server` listens on a Unix socket only and daemonises through ``pg_ctl``;
`make run` needs TCP on a known port and a child process it can stop. So this does what
pgserver does for the parts that matter (``initdb`` with trust authentication for the
``postgres`` role; when running as root, which Postgres refuses, a system user ``pgserver``
owns the cluster and runs it, and the folders above the cluster are made traversable) and
then runs ``postgres`` itself in the foreground, listening on 127.0.0.1 only.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import signal
import stat
import subprocess
from pathlib import Path

from scripts.infra import LOOPBACK, LocalServer

RUN_AS = "pgserver"  # the system user pgserver itself creates when run as root
SUPERUSER = "postgres"


def pg_bin() -> Path:
    """Return the folder of the pgserver wheel's Postgres binaries, or explain how to get it."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or spec.origin is None:
        raise SystemExit(
            "Postgres is not answering and the pip package 'pgserver' (which ships a Postgres "
            "server) is not installed: run `make install`, or start Postgres yourself and set "
            "SPARKY_DATABASE_URL"
        )
    return Path(spec.origin).parent / "pginstall" / "bin"


def ensure_system_user(name: str) -> pwd.struct_passwd:
    """Return the system user ``name``, creating it (no home, no login) if missing."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        useradd = shutil.which("useradd")
        if useradd is None:
            raise SystemExit(
                f"Postgres cannot run as root and there is no user {name!r} to run it as "
                "(useradd is missing): create one, or run `make run` as a normal user"
            ) from None
        subprocess.run(
            [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(name)


def allow_traversal(folder: Path) -> None:
    """Let other users pass through ``folder`` and every folder above it (x, not r)."""
    for path in (folder, *folder.parents):
        mode = stat.S_IMODE(path.stat().st_mode)
        if not mode & stat.S_IXOTH:
            path.chmod(mode | stat.S_IXOTH)


class LocalPostgres(LocalServer):
    """``postgres -D <data>/postgres -h 127.0.0.1 -p <port>``, trust auth, superuser postgres."""

    name = "postgres"
    stop_signal = signal.SIGINT  # "fast" shutdown: ends the sessions, then a checkpoint

    def __init__(self, port: int, data_dir: Path) -> None:
        super().__init__(port, data_dir)
        self.bin = pg_bin()
        self.run_as = RUN_AS if os.geteuid() == 0 else None

    def url(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@{LOOPBACK}:{self.port}/{database}"

    def prepare(self) -> None:
        """Create and initialise the cluster the first time (owned by the user it runs as)."""
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.run_as is not None:
            user = ensure_system_user(self.run_as)
            os.chown(self.home, user.pw_uid, user.pw_gid)
            self.home.chmod(0o700)
            allow_traversal(self.home.parent)
        if not (self.home / "PG_VERSION").exists():
            self._initdb()

    def _initdb(self) -> None:
        args = [
            str(self.bin / "initdb"),
            "-D", str(self.home),
            "-U", SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
        ]  # fmt: skip
        done = subprocess.run(
            args,
            capture_output=True,
            text=True,
            check=False,
            user=self.run_as,
            group=self.run_as,
            extra_groups=[] if self.run_as else None,
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed for {self.home}:\n{done.stdout}{done.stderr}")

    def command(self) -> list[str]:
        return [
            str(self.bin / "postgres"),
            "-D", str(self.home),
            "-h", LOOPBACK,
            "-p", str(self.port),
            "-k", "",  # no Unix socket: TCP only, and no path-length limit
        ]  # fmt: skip

    def is_ready(self) -> bool:
        ready = [str(self.bin / "pg_isready"), "-q", "-h", LOOPBACK, "-p", str(self.port)]
        return subprocess.run(ready, check=False, timeout=10).returncode == 0

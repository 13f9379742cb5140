"""What a killed `make run` left running is stopped by the next one, and nothing else is."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from scripts.leftovers import PID_FILE, forget, remember, stop_leftovers


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A process in a session of its own, as `make run` starts them."""
    proc = subprocess.Popen(["sleep", "60"], start_new_session=True)
    yield proc
    proc.kill()
    proc.wait()


def test_processes_a_killed_run_left_are_stopped_by_the_next(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    remember(tmp_path, [sleeper.pid, None])
    assert stop_leftovers(tmp_path) == ["sleep"]
    assert sleeper.wait(timeout=5) is not None
    assert not (tmp_path / PID_FILE).exists()


def test_a_recycled_pid_is_never_stopped(tmp_path: Path, sleeper: subprocess.Popen[bytes]) -> None:
    remember(tmp_path, [sleeper.pid])
    record = json.loads((tmp_path / PID_FILE).read_text())
    record[0]["created"] -= 100  # the recorded process started earlier: this is another one
    (tmp_path / PID_FILE).write_text(json.dumps(record))
    assert stop_leftovers(tmp_path) == []
    assert psutil.Process(sleeper.pid).is_running()


def test_a_run_that_ended_normally_leaves_nothing_to_stop(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    remember(tmp_path, [sleeper.pid])
    forget(tmp_path)
    assert stop_leftovers(tmp_path) == []
    assert sleeper.poll() is None

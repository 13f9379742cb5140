"""Partitioning is stable everywhere and spreads tenants evenly."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections import Counter

import pytest

from libs.common.ids import new_id, owned_partitions, partition

SAMPLE = ["tenant-a", "01JD5Z1B2C3D4E5F6G7H8J9K0M", "x", "Z" * 64]


def test_same_tenant_same_partition_in_another_process() -> None:
    code = f"from libs.common.ids import partition;print([partition(t, 16) for t in {SAMPLE!r}])"
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        )
        assert out.stdout.strip() == str([partition(t, 16) for t in SAMPLE])


def test_known_values_never_change() -> None:
    # Changing these moves every tenant to another consumer: a deployment-breaking change.
    assert [partition(t, 16) for t in SAMPLE] == [15, 14, 15, 13]


@pytest.mark.parametrize("ids", ["ulid", "seeded"])
def test_ten_thousand_tenants_spread_within_20_percent_of_the_mean(ids: str) -> None:
    rng = random.Random(7)
    tenants = (
        [new_id() for _ in range(10_000)]
        if ids == "ulid"
        else [f"tenant-{rng.getrandbits(64):x}" for _ in range(10_000)]
    )
    counts = Counter(partition(t, 16) for t in tenants)
    mean = 10_000 / 16
    assert set(counts) == set(range(16))
    assert all(0.8 * mean <= n <= 1.2 * mean for n in counts.values()), counts


def test_replicas_own_every_partition_exactly_once() -> None:
    for replicas in (1, 2, 3, 5, 16):
        owned = [p for i in range(replicas) for p in owned_partitions(i, replicas, 16)]
        assert sorted(owned) == list(range(16))


def test_a_replica_outside_the_set_is_refused() -> None:
    with pytest.raises(ValueError, match="does not exist"):
        owned_partitions(2, 2, 16)
    with pytest.raises(ValueError, match="at least 1"):
        partition("t", 0)

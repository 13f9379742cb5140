"""The credential cache: fresh copies without Vault, stale ones while it is down, then none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from libs.common.redaction import REDACTOR
from services.executor.credentials import CredentialCache, Credentials
from services.executor.errors import CredentialsUnavailableError

KEYS = Credentials(api_key="key-0123456789", secret="secret-0123456789")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


class FakeVault:
    """A loader standing in for Vault: counts reads, can be down."""

    def __init__(self) -> None:
        self.reads = 0
        self.down = False
        self.keys = KEYS

    async def load(self, tenant_id: str, label: str) -> Credentials:
        self.reads += 1
        if self.down:
            raise CredentialsUnavailableError("credentials unavailable: Vault is down")
        return self.keys


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def vault() -> FakeVault:
    return FakeVault()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(vault: FakeVault, clock: Clock) -> CredentialCache:
    return CredentialCache(vault.load, ttl_s=60, clock=clock, wall_clock=lambda: T0)


async def test_a_fresh_copy_is_served_without_reading_vault(
    cache: CredentialCache, vault: FakeVault, clock: Clock
) -> None:
    assert await cache.get("t", "main") == KEYS
    clock.now += 29
    assert await cache.get("t", "main") == KEYS
    assert vault.reads == 1


async def test_vault_down_serves_the_cached_keys_until_the_ttl_then_fails_closed(
    cache: CredentialCache, vault: FakeVault, clock: Clock
) -> None:
    await cache.get("t", "main")
    vault.down = True
    clock.now += 59
    assert await cache.get("t", "main") == KEYS
    clock.now += 2
    with pytest.raises(CredentialsUnavailableError, match="credentials unavailable"):
        await cache.get("t", "main")


async def test_keys_are_read_again_once_replaced_elsewhere(
    cache: CredentialCache, vault: FakeVault
) -> None:
    await cache.get("t", "main")
    vault.keys = Credentials(api_key="new-key-0123456789", secret="new-secret-0123456789")
    changed = await cache.get("t", "main", changed_at=T0 + timedelta(seconds=1))
    assert changed.api_key == "new-key-0123456789"
    assert vault.reads == 2


async def test_each_tenant_gets_its_own_entry_even_with_the_same_label(
    vault: FakeVault, clock: Clock
) -> None:
    seen: list[tuple[str, str]] = []

    async def load(tenant_id: str, label: str) -> Credentials:
        seen.append((tenant_id, label))
        return Credentials(api_key=f"{tenant_id}-key-000000", secret=f"{tenant_id}-secret-00000")

    cache = CredentialCache(load, ttl_s=60, clock=clock)
    assert (await cache.get("alice", "main")).api_key == "alice-key-000000"
    assert (await cache.get("bob", "main")).api_key == "bob-key-000000"
    assert seen == [("alice", "main"), ("bob", "main")]


async def test_loaded_keys_are_redacted_from_logs_until_dropped(
    vault: FakeVault, cache: CredentialCache, clock: Clock
) -> None:
    vault.keys = Credentials(api_key="only-here-key-42", secret="only-here-secret-42")
    await cache.get("t", "main")
    assert REDACTOR.redact("sent only-here-key-42") == "sent [REDACTED]"
    clock.now += 61
    assert cache.evict_expired() == 1
    assert REDACTOR.redact("sent only-here-key-42") == "sent only-here-key-42"


def test_credentials_never_print_themselves() -> None:
    assert "0123456789" not in repr(KEYS)
    assert "0123456789" not in str(KEYS)

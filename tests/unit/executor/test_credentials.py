"""The credential cache: fresh copies without Vault, stale ones while it is down, then none."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from libs.common.redaction import REDACTOR
from services.executor.adapters.credentials import CredentialCache, Credentials
from services.executor.errors import CredentialsUnavailableError

KEYS = Credentials(api_key="key-0123456789", secret="secret-0123456789")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


class FakeVault:
    """A loader standing in for Vault: counts reads, can be down."""

    def __init__(self) -> None:
        self.reads = 0
        self.down = False
        self.keys = KEYS
        self.slow: asyncio.Event | None = None
        """When set, a read answers only once the event is set (with the keys it started at)."""

    async def load(self, tenant_id: str, label: str) -> Credentials:
        self.reads += 1
        keys, slow = self.keys, self.slow
        if slow is not None:
            await slow.wait()
        if self.down:
            raise CredentialsUnavailableError("credentials unavailable: Vault is down")
        return keys


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


async def settled(cache: CredentialCache) -> None:
    """Wait for the cache's background reads to finish."""
    await asyncio.gather(*cache._refreshing.values())  # noqa: SLF001


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


async def test_a_copy_past_half_its_ttl_is_served_at_once_and_read_again_behind(
    cache: CredentialCache, vault: FakeVault, clock: Clock
) -> None:
    await cache.get("t", "main")
    vault.slow = asyncio.Event()  # Vault is slow: an order must not wait for it
    vault.keys = newer = Credentials(api_key="rotated-key-01234567", secret="rotated-secret-0123")
    clock.now += 31
    assert await asyncio.wait_for(cache.get("t", "main"), 1) == KEYS
    assert await asyncio.wait_for(cache.get("t", "main"), 1) == KEYS
    assert vault.reads == 2  # one background read, however many look-ups meanwhile
    vault.slow.set()
    await settled(cache)
    assert await cache.get("t", "main") == newer
    clock.now += 29  # the refreshed copy counts from its own read
    assert await cache.get("t", "main") == newer
    assert vault.reads == 2


async def test_a_background_read_never_brings_back_keys_replaced_meanwhile(
    cache: CredentialCache, vault: FakeVault, clock: Clock
) -> None:
    await cache.get("t", "main")
    slow = vault.slow = asyncio.Event()
    clock.now += 31
    await cache.get("t", "main")  # starts a background read of the keys as they are now
    await asyncio.sleep(0)  # which is now waiting on Vault
    vault.slow = None
    vault.keys = replaced = Credentials(api_key="replaced-key-0123456", secret="replaced-secr-01")
    assert await cache.get("t", "main", changed_at=T0 + timedelta(seconds=1)) == replaced
    slow.set()
    await settled(cache)
    assert await cache.get("t", "main") == replaced


async def test_a_failed_background_read_keeps_serving_the_copy_until_its_ttl(
    cache: CredentialCache, vault: FakeVault, clock: Clock
) -> None:
    await cache.get("t", "main")
    vault.down = True
    clock.now += 40
    assert await cache.get("t", "main") == KEYS
    await settled(cache)
    clock.now += 19
    assert await cache.get("t", "main") == KEYS
    clock.now += 2
    with pytest.raises(CredentialsUnavailableError):
        await cache.get("t", "main")
    await cache.close()


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

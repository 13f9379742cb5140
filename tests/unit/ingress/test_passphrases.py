"""An alert's passphrase: a slow check once, then remembered; a wrong one is never remembered."""

from __future__ import annotations

import hashlib

import pytest

from libs.common.passphrases import Cost, hash_passphrase
from services.ingress.domain.passphrases import PassphraseCheck, VerifiedPassphrases
from services.ingress.domain.webhook import Webhook
from services.ingress.errors import UnauthorizedError
from tests import factories

CHEAP = Cost(n=2**10, r=8, p=1)


def webhook(**fields: object) -> Webhook:
    tenant = factories.tenant_record()
    return Webhook(factories.webhook_record(tenant.tenant_id, **fields), tenant)


async def test_the_right_passphrase_is_checked_slowly_once_then_known() -> None:
    check = PassphraseCheck()
    hook = webhook(passphrase_hash=hash_passphrase("correct horse", CHEAP))

    assert check.pending(hook, "correct horse") == "correct horse"
    await check.verify(hook, "correct horse")

    assert check.pending(hook, "correct horse") is None


async def test_a_wrong_passphrase_is_refused_every_time_and_never_remembered() -> None:
    check = PassphraseCheck()
    hook = webhook(passphrase_hash=hash_passphrase("correct horse", CHEAP))
    await check.verify(hook, "correct horse")

    for _ in range(2):
        assert check.pending(hook, "correct horse!") == "correct horse!"
        with pytest.raises(UnauthorizedError, match="wrong"):
            await check.verify(hook, "correct horse!")
    with pytest.raises(UnauthorizedError, match="needs its passphrase"):
        check.pending(hook, None)


async def test_a_changed_passphrase_forgets_the_old_one() -> None:
    check = PassphraseCheck()
    hook = webhook(passphrase_hash=hash_passphrase("correct horse", CHEAP))
    await check.verify(hook, "correct horse")
    changed = Webhook(
        hook.record.model_copy(update={"passphrase_hash": hash_passphrase("new horse", CHEAP)}),
        hook.tenant,
    )

    assert check.pending(changed, "correct horse") == "correct horse"
    with pytest.raises(UnauthorizedError, match="wrong"):
        await check.verify(changed, "correct horse")


async def test_the_same_passphrase_on_another_webhook_is_checked_again() -> None:
    check = PassphraseCheck()
    stored = hash_passphrase("correct horse", CHEAP)
    first, second = webhook(passphrase_hash=stored), webhook(passphrase_hash=stored)
    await check.verify(first, "correct horse")

    assert check.pending(second, "correct horse") == "correct horse"


def test_a_webhook_without_passphrase_ignores_one_sent_anyway() -> None:
    assert PassphraseCheck().pending(webhook(), "anything") is None
    assert PassphraseCheck().pending(webhook(), None) is None


def test_an_unsalted_digest_of_a_billing_not_yet_migrated_is_checked_fast() -> None:
    hook = webhook(passphrase_sha256=hashlib.sha256(b"correct horse").hexdigest())

    assert PassphraseCheck().pending(hook, "correct horse") is None
    with pytest.raises(UnauthorizedError, match="wrong"):
        PassphraseCheck().pending(hook, "wrong horse")


def test_the_memory_of_checks_is_bounded_least_recently_used_first() -> None:
    verified = VerifiedPassphrases(size=2)
    for webhook_id in ("a", "b"):
        verified.remember(webhook_id, "stored", "p")
    assert verified.seen("a", "stored", "p")  # "b" is now the least recently used
    verified.remember("c", "stored", "p")

    assert len(verified) == 2
    assert verified.seen("a", "stored", "p")
    assert not verified.seen("b", "stored", "p")

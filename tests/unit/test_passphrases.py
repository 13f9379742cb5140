"""Passphrase hashes: salted, slow, their parameters recorded, old digests wrapped in place."""

from __future__ import annotations

import hashlib

import pytest

from libs.common.passphrases import (
    Cost,
    hash_passphrase,
    parse_stored,
    verify_passphrase,
    wrap_sha256,
)
from libs.common.records import WebhookTokenRecord
from tests import factories

CHEAP = Cost(n=2**10, r=8, p=1)  # the form and checks are the same; the tests run faster


def test_a_hash_records_its_parameters_and_a_fresh_salt() -> None:
    first, second = hash_passphrase("correct horse"), hash_passphrase("correct horse")

    assert first.startswith("scrypt$n=16384,r=8,p=1$")
    assert first != second  # salted
    assert parse_stored(first).cost == Cost(16384, 8, 1)
    assert verify_passphrase("correct horse", first)
    assert verify_passphrase("correct horse", second)
    assert not verify_passphrase("correct horse ", first)


def test_an_unsalted_digest_is_wrapped_without_the_passphrase_and_still_verifies() -> None:
    legacy = hashlib.sha256(b"open sesame 42").hexdigest()

    wrapped = wrap_sha256(legacy, CHEAP)

    assert wrapped.startswith("scrypt-sha256$n=1024,r=8,p=1$")
    assert legacy not in wrapped
    assert verify_passphrase("open sesame 42", wrapped)
    assert not verify_passphrase(legacy, wrapped)  # the old digest itself is no passphrase
    assert not verify_passphrase("open sesame 43", wrapped)


@pytest.mark.parametrize(
    "stored",
    [
        "0" * 64,  # an unsalted SHA-256
        "scrypt$n=1000,r=8,p=1$" + "A" * 22 + "$" + "A" * 43,  # n not a power of 2
        "scrypt$n=4194304,r=8,p=1$" + "A" * 22 + "$" + "A" * 43,  # 4 GiB of memory
        "scrypt$n=16384,r=8,p=1$" + "A" * 22 + "$" + "A" * 10,  # a short hash
        "bcrypt$n=16384,r=8,p=1$" + "A" * 22 + "$" + "A" * 43,
    ],
)
def test_a_record_with_another_form_or_an_unbounded_cost_is_refused(stored: str) -> None:
    with pytest.raises(ValueError, match="passphrase_hash"):
        factories.webhook_record(factories.tenant_record().tenant_id, passphrase_hash=stored)


def test_a_record_carries_the_hash_as_stored() -> None:
    stored = hash_passphrase("correct horse", CHEAP)
    record = factories.webhook_record(factories.tenant_record().tenant_id, passphrase_hash=stored)

    again = WebhookTokenRecord.model_validate_json(record.model_dump_json())

    assert again.passphrase_hash == stored

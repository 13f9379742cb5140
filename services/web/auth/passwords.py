"""Passwords: argon2id hashes (argon2-cffi's defaults, RFC 9106's second recommendation), the
rules a new password must follow, and a dummy check that makes an unknown email cost the same
time as a known one.
"""

from __future__ import annotations

import asyncio
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
MAX_LENGTH = 256  # argon2 takes any length; a bound keeps a request from costing seconds
_hasher = PasswordHasher()  # argon2id


def password_problem(password: str, email: str) -> str | None:
    """Return why ``password`` may not be used by ``email``'s owner, or None."""
    if len(password) < MIN_LENGTH:
        return f"Choose a password of at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Choose a password of at most {MAX_LENGTH} characters."
    lowered, address = password.strip().lower(), email.strip().lower()
    if lowered in {address, address.partition("@")[0]}:
        return "Choose a password that is not your email address."
    return None


async def hash_password(password: str) -> str:
    """Return the argon2id hash of ``password`` (off the event loop: it takes tens of ms)."""
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def check_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored``; with no ``stored`` hash (an unknown email),
    check against a dummy hash so that the answer takes as long, and say no.
    """
    if stored is None:
        await asyncio.to_thread(_verify, _dummy_hash(), password)
        return False
    return await asyncio.to_thread(_verify, stored, password)


def needs_rehash(stored: str) -> bool:
    """Whether ``stored`` was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash("not a password anyone has: the unknown-email stand-in")
